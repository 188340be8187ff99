"""The reference GPT from Python (llmlab.GPT): PyTorch's golden logits, loss and gradients
(tests/golden/gpt, nanoGPT's GPT in float64) through forward / backward, training that lowers the
loss, save / load that resumes bitwise, seeded generation, and the errors."""

import numpy as np
import pytest

import llmlab


def golden(golden_dir, what):
    return np.load(golden_dir / "gpt" / f"v64_t8_l2_h2_c16_{what}.npy")


def golden_model(golden_dir):
    V, M, L, H, C = (int(x) for x in golden(golden_dir, "config"))
    model = llmlab.GPT(vocab_size=V, block_size=M, n_layer=L, n_head=H, n_embd=C)
    return model


def test_forward_and_backward_match_pytorch(golden_dir):
    model = golden_model(golden_dir)
    params = model.parameters()
    names = list(params)
    assert names[0] == "transformer.wte.weight" and names[-1] == "transformer.ln_f.bias"
    assert params["transformer.h.1.attn.c_attn.weight"].shape == (48, 16)
    assert sum(p.size for p in params.values()) == 64 * 16 + 8 * 16 + 2 * (12 * 256 + 13 * 16) + 32
    flat = golden(golden_dir, "params")
    cuts = np.cumsum([p.size for p in params.values()])[:-1]
    model.set_parameters({n: a.reshape(params[n].shape) for n, a in zip(names, np.split(flat, cuts))})
    ids, targets = golden(golden_dir, "ids"), golden(golden_dir, "targets")
    logits, loss = model.forward(ids, targets)
    # float32 against PyTorch's float64: tests/gpt_test.cpp measured at most 1.3e-6 of the largest
    # value (logits and every gradient); 1e-5 of it, as there
    want = golden(golden_dir, "out")
    assert np.abs(logits - want).max() <= 1e-5 * np.abs(want).max()
    assert loss == pytest.approx(float(golden(golden_dir, "loss")[0]), rel=1e-5)
    grads = model.backward()
    assert list(grads) == names
    got = np.concatenate([g.ravel() for g in grads.values()])
    want = golden(golden_dir, "grads")
    for name, g, w in zip(names, np.split(got, cuts), np.split(want, cuts)):
        assert np.abs(g - w).max() <= 1e-5 * np.abs(w).max(), name
    assert np.all(grads["transformer.wpe.weight"][7] == 0)  # T = 7: position 7 unused
    with pytest.raises(llmlab.Error, match="transformer.wte.weight is [(]3, 16[)]"):
        model.set_parameters({"transformer.wte.weight": np.zeros((3, 16), np.float32)})


def test_training_lowers_the_loss_and_resumes_bitwise(tmp_path):
    stream = np.arange(400) % 10
    model = llmlab.GPT(vocab_size=16, block_size=8, n_layer=1, n_head=2, n_embd=16, steps=40,
                       warmup=4, lr=1e-2, min_lr=1e-3, batch=4, seed=3)
    before = model.evaluate(stream)
    losses = [model.train_step(stream)["loss"] for _ in range(20)]
    model.save(str(tmp_path / "m.ckpt"))
    resumed = llmlab.GPT.load(str(tmp_path / "m.ckpt"))
    assert resumed.step == 20 and resumed.config["n_embd"] == 16
    a = [model.train_step(stream)["loss"] for _ in range(20)]
    b = [resumed.train_step(stream)["loss"] for _ in range(20)]
    assert a == b
    after = model.evaluate(stream)
    assert after < 0.5 * before, (before, after, losses[:3], a[-3:])
    out = model.generate(np.array([3, 4, 5]), max_tokens=10, temperature=0.0)
    assert list(out) == [(3 + i) % 10 for i in range(13)]
    s1 = model.generate(np.array([3]), max_tokens=8, temperature=1.0, seed=4)
    assert np.array_equal(s1, model.generate(np.array([3]), max_tokens=8, temperature=1.0, seed=4))


def test_errors_name_the_problem(tmp_path):
    model = llmlab.GPT(vocab_size=16, block_size=4, n_layer=1, n_head=2, n_embd=8)
    with pytest.raises(llmlab.Error, match="block_size = 4"):
        model.forward(np.zeros((1, 5), dtype=np.int64))
    with pytest.raises(llmlab.Error, match="call forward"):
        model.backward()
    with pytest.raises(llmlab.Error, match="n_head = 3 does not divide n_embd = 8"):
        llmlab.GPT(vocab_size=16, block_size=4, n_layer=1, n_head=3, n_embd=8)
    (tmp_path / "bad.ckpt").write_bytes(b"garbage")
    with pytest.raises(llmlab.Error, match="no LLMLABCK magic"):
        llmlab.GPT.load(str(tmp_path / "bad.ckpt"))


def test_safetensors_round_trip_through_the_safetensors_library(golden_dir, tmp_path):
    # Hugging Face's own reader and writer (safetensors.numpy) on both sides of llmlab's files.
    from safetensors.numpy import load_file, save_file

    model = golden_model(golden_dir)
    path = tmp_path / "model.safetensors"
    model.save_safetensors(str(path))
    loaded = load_file(str(path))
    params = model.parameters()
    assert set(loaded) == set(params) | {"lm_head.weight"}
    for name, a in params.items():
        assert loaded[name].dtype == np.float32 and np.array_equal(loaded[name], a), name
    assert np.array_equal(loaded["lm_head.weight"], params["transformer.wte.weight"])

    # PyTorch's golden parameters written by the safetensors library, read by llmlab: the
    # model then gives PyTorch's logits (within float32's rounding, as above).
    flat = golden(golden_dir, "params")
    cuts = np.cumsum([p.size for p in params.values()])[:-1]
    state = {n: a.reshape(params[n].shape).astype(np.float32)
             for n, a in zip(params, np.split(flat, cuts))}
    state["lm_head.weight"] = state["transformer.wte.weight"]
    save_file(state, str(tmp_path / "golden.safetensors"))
    fresh = golden_model(golden_dir)
    fresh.load_safetensors(str(tmp_path / "golden.safetensors"))
    logits, _ = fresh.forward(golden(golden_dir, "ids"), golden(golden_dir, "targets"))
    want = golden(golden_dir, "out")
    assert np.abs(logits - want).max() <= 1e-5 * np.abs(want).max()


def test_safetensors_errors_name_what_is_wrong(golden_dir, tmp_path):
    from safetensors.numpy import save_file

    model = golden_model(golden_dir)
    state = {n: a for n, a in model.parameters().items()}
    state["transformer.h.0.ln_1.weight"] = np.ones(15, np.float32)
    save_file(state, str(tmp_path / "bad_shape.safetensors"))
    with pytest.raises(llmlab.Error, match="transformer.h.0.ln_1.weight` is [(]15[)] but the configuration asks for [(]16[)]"):
        model.load_safetensors(str(tmp_path / "bad_shape.safetensors"))
    del state["transformer.h.0.ln_1.weight"]
    save_file(state, str(tmp_path / "missing.safetensors"))
    with pytest.raises(llmlab.Error, match="no tensor `transformer.h.0.ln_1.weight`"):
        model.load_safetensors(str(tmp_path / "missing.safetensors"))
    state = dict(model.parameters())
    state["lm_head.weight"] = state["transformer.wte.weight"] + 1
    save_file(state, str(tmp_path / "untied.safetensors"))
    with pytest.raises(llmlab.Error, match="lm_head.weight differs"):
        model.load_safetensors(str(tmp_path / "untied.safetensors"))
    good = tmp_path / "model.safetensors"
    model.save_safetensors(str(good))
    (tmp_path / "cut.safetensors").write_bytes(good.read_bytes()[:1000])
    with pytest.raises(llmlab.Error, match="data_offsets|runs past the file"):
        model.load_safetensors(str(tmp_path / "cut.safetensors"))
    (tmp_path / "junk.safetensors").write_bytes(b"\x04\x00\x00\x00\x00\x00\x00\x00nope")
    with pytest.raises(llmlab.Error, match="not a JSON object"):
        model.load_safetensors(str(tmp_path / "junk.safetensors"))
