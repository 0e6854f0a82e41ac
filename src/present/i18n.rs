//! Every sentence the kiosk shows, in Vietnamese and English.

use crate::matching::agreement::Guidance;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub fn parse(code: &str) -> Lang {
        if code.eq_ignore_ascii_case("en") { Lang::En } else { Lang::Vi }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    SwitchLanguage,
    CheckedIn,
    LookAtCamera,
    Welcome,
    AlreadyCheckedIn,
    Seat,
    Time,
    NotRecognised,
    NotRecognisedHelp,
    FindByName,
    HelpDesk,
    SearchPrompt,
    NoResults,
    Confirm,
    Cancel,
    Space,
    Delete,
    ConfirmQuestion,
    CodePrompt,
    CodeWhy,
    WrongCode,
    NoCamera,
    RecognitionDown,
    NotRecorded,
    NotRecordedHelp,
    TurnHead,
    NotConfirmed,
    NotConfirmedHelp,
    Admin,
    EnterPin,
    WrongPin,
    Ok,
    Close,
    Present,
    LatestCheckIns,
    StaffCheckIn,
    PrintPapers,
    PapersWritten,
    Online,
    OfflineWaiting,
    Undo(crate::present::model::UndoReason),
    Guidance(Guidance),
}

pub fn t(lang: Lang, text: Text) -> &'static str {
    use Lang::*;
    use Text::*;
    match (text, lang) {
        (SwitchLanguage, Vi) => "English",
        (SwitchLanguage, En) => "Tiếng Việt",
        (CheckedIn, Vi) => "đã điểm danh",
        (CheckedIn, En) => "checked in",
        (LookAtCamera, Vi) => "Xin mời nhìn vào camera",
        (LookAtCamera, En) => "Please look at the camera",
        (Welcome, Vi) => "Chào mừng đại biểu",
        (Welcome, En) => "Welcome",
        (AlreadyCheckedIn, Vi) => "Đại biểu đã điểm danh lúc",
        (AlreadyCheckedIn, En) => "Already checked in at",
        (Seat, Vi) => "Ghế",
        (Seat, En) => "Seat",
        (Time, Vi) => "Thời gian",
        (Time, En) => "Time",
        (NotRecognised, Vi) => "Xin lỗi, hệ thống chưa nhận ra quý đại biểu",
        (NotRecognised, En) => "Sorry, we could not recognise you",
        (NotRecognisedHelp, Vi) => "Xin mời tìm theo tên hoặc mã đại biểu, hoặc đến bàn hỗ trợ.",
        (NotRecognisedHelp, En) => "Please search by name or delegate code, or go to the help desk.",
        (FindByName, Vi) => "Tìm theo tên / mã đại biểu",
        (FindByName, En) => "Find by name / delegate code",
        (HelpDesk, Vi) => "Bàn hỗ trợ ở lối vào chính",
        (HelpDesk, En) => "The help desk is at the main entrance",
        (SearchPrompt, Vi) => "Nhập tên hoặc mã đại biểu",
        (SearchPrompt, En) => "Type a name or delegate code",
        (NoResults, Vi) => "Không tìm thấy đại biểu",
        (NoResults, En) => "No delegate found",
        (Confirm, Vi) => "Xác nhận",
        (Confirm, En) => "Confirm",
        (Space, Vi) => "Dấu cách",
        (Space, En) => "Space",
        (Delete, Vi) => "Xóa",
        (Delete, En) => "Delete",
        (Cancel, Vi) => "Hủy",
        (Cancel, En) => "Cancel",
        (ConfirmQuestion, Vi) => "Điểm danh cho đại biểu này?",
        (ConfirmQuestion, En) => "Check in this delegate?",
        (CodePrompt, Vi) => "Xin mời nhập mã đại biểu để xác nhận",
        (CodePrompt, En) => "Please type your delegate code to confirm",
        (CodeWhy, Vi) => "Khuôn mặt của quý đại biểu rất giống một đại biểu khác.",
        (CodeWhy, En) => "Your face is very like another delegate's.",
        (WrongCode, Vi) => "Mã chưa đúng, xin thử lại",
        (WrongCode, En) => "That code does not match; please try again",
        (NoCamera, Vi) => "Không có camera — vẫn có thể điểm danh theo tên",
        (NoCamera, En) => "No camera — check-in by name still works",
        (RecognitionDown, Vi) => "Nhận diện khuôn mặt đang gặp sự cố — vẫn có thể điểm danh theo tên",
        (RecognitionDown, En) => "Face recognition has a problem — check-in by name still works",
        (TurnHead, Vi) => "Xin quay đầu nhẹ sang trái hoặc phải, rồi nhìn lại camera",
        (TurnHead, En) => "Please turn your head a little to one side, then look back",
        // Neutral: it names no one and accuses no one (a real delegate may land here).
        (NotConfirmed, Vi) => "Chưa xác nhận được",
        (NotConfirmed, En) => "We could not confirm your check-in",
        (NotConfirmedHelp, Vi) => "Xin mời quý đại biểu đến bàn hỗ trợ, cán bộ sẽ điểm danh giúp.",
        (NotConfirmedHelp, En) => "Please go to the help desk; the staff there will check you in.",
        (NotRecorded, Vi) => "Xin lỗi, chưa ghi nhận được điểm danh",
        (NotRecorded, En) => "Sorry, your check-in could not be recorded",
        (NotRecordedHelp, Vi) => "Xin mời quý đại biểu đến bàn hỗ trợ để được điểm danh.",
        (NotRecordedHelp, En) => "Please go to the help desk to be checked in.",
        (Admin, Vi) => "Quản trị",
        (Admin, En) => "Admin",
        (EnterPin, Vi) => "Nhập mã PIN quản trị",
        (EnterPin, En) => "Enter the admin PIN",
        (WrongPin, Vi) => "Sai mã PIN (hoặc chưa đặt mã: kiosk admin-pin)",
        (WrongPin, En) => "Wrong PIN (or none set: kiosk admin-pin)",
        (Ok, _) => "OK",
        (Close, Vi) => "Đóng",
        (Close, En) => "Close",
        (Present, Vi) => "Có mặt",
        (Present, En) => "Present",
        (LatestCheckIns, Vi) => "Điểm danh gần nhất",
        (LatestCheckIns, En) => "Latest check-ins",
        (PrintPapers, Vi) => "In danh sách và báo cáo (PDF)",
        (PrintPapers, En) => "Print the list and the report (PDF)",
        (PapersWritten, Vi) => "Đã lưu:",
        (PapersWritten, En) => "Saved:",
        (StaffCheckIn, Vi) => "Điểm danh thủ công",
        (StaffCheckIn, En) => "Manual check-in",
        (Online, Vi) => "Đã kết nối",
        (Online, En) => "Online",
        (OfflineWaiting, Vi) => "Mất kết nối · chờ gửi:",
        (OfflineWaiting, En) => "Offline · waiting:",
        (Undo(r), lang) => undo(r, lang),
        (Guidance(g), lang) => guidance(g, lang),
    }
}

fn undo(r: crate::present::model::UndoReason, lang: Lang) -> &'static str {
    use crate::present::model::UndoReason::*;
    match (r, lang) {
        (WrongPerson, Lang::Vi) => "Hủy: nhận nhầm người",
        (WrongPerson, Lang::En) => "Undo: wrong person",
        (LeftTheHall, Lang::Vi) => "Hủy: đã rời hội trường",
        (LeftTheHall, Lang::En) => "Undo: left the hall",
        (EnteredByMistake, Lang::Vi) => "Hủy: nhập nhầm",
        (EnteredByMistake, Lang::En) => "Undo: by mistake",
    }
}

fn guidance(g: Guidance, lang: Lang) -> &'static str {
    use Guidance::*;
    match (g, lang) {
        (MoveCloser, Lang::Vi) => "Xin mời lại gần hơn",
        (MoveCloser, Lang::En) => "Please come closer",
        (FaceTheCamera, Lang::Vi) => "Xin mời nhìn thẳng vào camera",
        (FaceTheCamera, Lang::En) => "Please face the camera",
        (HoldStill, Lang::Vi) => "Xin đứng yên một chút",
        (HoldStill, Lang::En) => "Please hold still",
        (TooDark, Lang::Vi) => "Quá tối",
        (TooDark, Lang::En) => "Too dark",
        (Backlit, Lang::Vi) => "Ngược sáng — xin đổi hướng đứng",
        (Backlit, Lang::En) => "Too much light behind you",
        (TooBright, Lang::Vi) => "Quá sáng",
        (TooBright, Lang::En) => "Too bright",
        (OnePersonAtATime, Lang::Vi) => "Xin mời từng người một",
        (OnePersonAtATime, Lang::En) => "One person at a time, please",
    }
}
