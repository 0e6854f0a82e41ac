//! The fallback lane's search: delegates by name or code, insensitive to
//! case and Vietnamese diacritics ("nguyen van a" finds "Nguyễn Văn A").

use crate::store::Delegate;
use crate::text::fold;

/// Delegates whose code or name matches every word of `query`, best first:
/// an exact code, then names whose words start with the query's words.
pub fn find<'a>(delegates: &'a [Delegate], query: &str, limit: usize) -> Vec<&'a Delegate> {
    let words: Vec<String> = fold(query).split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<(u32, &Delegate)> = delegates
        .iter()
        .filter_map(|d| {
            let code = fold(&d.code);
            if words.len() == 1 && code == words[0] {
                return Some((0, d));
            }
            let name = fold(&d.name);
            let name_words: Vec<&str> = name.split_whitespace().collect();
            let all = words.iter().all(|w| name.contains(w.as_str()) || code.contains(w.as_str()));
            if !all {
                return None;
            }
            let starts = words.iter().filter(|w| name_words.iter().any(|n| n.starts_with(w.as_str()))).count();
            Some((1 + (words.len() - starts) as u32, d))
        })
        .collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| fold(&a.1.name).cmp(&fold(&b.1.name))));
    hits.into_iter().take(limit).map(|(_, d)| d).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(code: &str, name: &str) -> Delegate {
        Delegate { code: code.into(), name: name.into(), ..Delegate::default() }
    }

    #[test]
    fn finds_by_name_without_diacritics_and_by_code() {
        let people =
            [d("D001", "Nguyễn Văn A"), d("D002", "Nguyễn Văn Anh"), d("D010", "Trần Thị Bích"), d("X7", "Lê Đức Anh")];
        let names = |q: &str| find(&people, q, 10).iter().map(|d| d.code.clone()).collect::<Vec<_>>();
        assert_eq!(names("nguyen van a"), ["D001", "D002"]);
        assert_eq!(names("duc anh"), ["X7"]);
        assert_eq!(names("d010"), ["D010"]);
        assert_eq!(names("BICH"), ["D010"]);
        assert!(names("nobody").is_empty());
        assert!(names("   ").is_empty());
    }
}
