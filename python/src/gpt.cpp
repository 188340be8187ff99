/// \file
/// \ingroup group_gpt
/// \brief Binding of the reference GPT and its training state: `llmlab.ref.GPT` (also
/// `llmlab.GPT`) with forward, backward, parameters, train_step, evaluate, save / load,
/// safetensors and generate (float32, the state llmlab::ref::TrainState holds).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "llmlab/ref/safetensors.hpp"
#include "llmlab/ref/train.hpp"

namespace llmlab::python {
namespace {

/// A model, its AdamW state and the last forward (for backward).
struct PyGpt {
  ref::TrainState s;
  std::optional<ref::GptForward<float>> last;
  xt::xtensor<std::int32_t, 2> ids, targets;
};

/// The named tensors of p as NumPy copies in their shapes, in nanoGPT's state_dict order.
py::dict named(ref::GptParams<float>& p) {
  py::dict d;
  for (const auto& t : ref::gpt_tensors(p)) {
    py::array_t<float> a(std::vector<py::ssize_t>(t.shape.begin(), t.shape.end()));
    std::copy_n(t.data, t.size, a.mutable_data());
    d[py::str(t.name)] = a;
  }
  return d;
}

/// Any array of integer ids, flattened, as int32 (a token stream or a prompt).
std::vector<std::int32_t> id_list(const py::array& ids, const char* fn) {
  if (ids.dtype().kind() != 'i' && ids.dtype().kind() != 'u')
    throw py::type_error(std::string(fn) + ": ids must be integers, got " + dtype_str(ids));
  std::vector<std::int32_t> out;
  for (const std::int64_t v :
       py::cast<std::vector<std::int64_t>>(ids.attr("ravel")().attr("tolist")())) {
    if (v < 0 || v > INT32_MAX)
      throw Error(fn, "ids holds " + std::to_string(v) + ", not a token id");
    out.push_back(static_cast<std::int32_t>(v));
  }
  return out;
}

}  // namespace

void bind_gpt(py::module_& ref, py::module_& /*cuda*/) {
  py::class_<PyGpt>(ref, "GPT",
                    "GPT-2 in the reference (llmlab::ref::gpt_forward / gpt_backward), float32, "
                    "with AdamW's state for train_step. Parameters use nanoGPT's names.")
      .def(py::init([](std::int64_t vocab_size, std::int64_t block_size, std::int64_t n_layer,
                       std::int64_t n_head, std::int64_t n_embd, std::uint64_t seed,
                       std::int64_t steps, std::int64_t warmup, double lr, double min_lr,
                       double weight_decay, double clip, std::int64_t batch) {
             ref::TrainOptions o;
             o.seed = seed;
             o.steps = steps;
             o.warmup = warmup;
             o.lr = lr;
             o.min_lr = min_lr;
             o.weight_decay = weight_decay;
             o.clip = clip;
             o.batch = batch;
             return PyGpt{
                 ref::train_init({vocab_size, block_size, n_layer, n_head, n_embd}, o), {}, {}, {}};
           }),
           py::arg("vocab_size") = 64, py::arg("block_size") = 8, py::arg("n_layer") = 2,
           py::arg("n_head") = 2, py::arg("n_embd") = 16, py::arg("seed") = 1337,
           py::arg("steps") = 100, py::arg("warmup") = 10, py::arg("lr") = 1e-3,
           py::arg("min_lr") = 1e-4, py::arg("weight_decay") = 0.1, py::arg("clip") = 1.0,
           py::arg("batch") = 8,
           "A model initialised as nanoGPT (seeded) and a training run's options.")
      .def_static(
          "load",
          [](const std::string& path) {
            return PyGpt{ref::load_checkpoint(path), {}, {}, {}};
          },
          py::arg("path"), "A model and its training state from llmlab's checkpoint file.")
      .def(
          "save", [](const PyGpt& g, const std::string& path) { ref::save_checkpoint(path, g.s); },
          py::arg("path"), "Writes the model and its training state (atomically).")
      .def(
          "save_safetensors",
          [](const PyGpt& g, const std::string& path) {
            ref::save_safetensors(path, g.s.cfg, g.s.params);
          },
          py::arg("path"),
          "Writes the parameters as safetensors under nanoGPT's names, lm_head.weight included "
          "(what safetensors.torch.load_file hands to nanoGPT's load_state_dict).")
      .def(
          "load_safetensors",
          [](PyGpt& g, const std::string& path) {
            g.s.params = ref::load_safetensors(path, g.s.cfg);
            g.last.reset();
          },
          py::arg("path"),
          "Replaces the parameters with a safetensors file's (nanoGPT's names and this model's "
          "shapes; F32, F64 or BF16).")
      .def_property_readonly("config",
                             [](const PyGpt& g) {
                               const auto& c = g.s.cfg;
                               py::dict d;
                               d["vocab_size"] = c.vocab_size;
                               d["block_size"] = c.block_size;
                               d["n_layer"] = c.n_layer;
                               d["n_head"] = c.n_head;
                               d["n_embd"] = c.n_embd;
                               return d;
                             })
      .def_property_readonly("step", [](const PyGpt& g) { return g.s.step; })
      .def(
          "forward",
          [](PyGpt& g, const py::array& ids, const std::optional<py::array>& targets) {
            g.ids = ids_int32(ids, "GPT.forward");
            g.targets = targets ? ids_int32(*targets, "GPT.forward")
                                : xt::xtensor<std::int32_t, 2>(xt::zeros<std::int32_t>({0, 0}));
            g.last = ref::gpt_forward(g.s.cfg, g.s.params, g.ids, g.targets);
            return py::make_tuple(to_numpy(g.last->logits),
                                  targets ? py::object(py::float_(g.last->loss)) : py::none());
          },
          py::arg("ids"), py::arg("targets") = py::none(),
          "ids (B, T) → (logits (B, T, V), the mean loss or None without targets).")
      .def(
          "backward",
          [](PyGpt& g) {
            if (!g.last || g.targets.size() == 0)
              throw Error("GPT.backward", "call forward(ids, targets) first");
            auto grads = ref::gpt_backward(g.s.cfg, g.s.params, g.ids, g.targets, *g.last);
            return named(grads);
          },
          "The gradient of the last forward's loss for every parameter, by nanoGPT name.")
      .def(
          "parameters", [](PyGpt& g) { return named(g.s.params); },
          "Copies of the parameters by nanoGPT name (lm_head.weight is wte).")
      .def(
          "set_parameters",
          [](PyGpt& g, const py::dict& values) {
            for (auto& t : ref::gpt_tensors(g.s.params)) {
              if (!values.contains(t.name)) continue;
              const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(
                  values[py::str(t.name)]);
              if (!a) throw py::type_error("GPT.set_parameters: " + t.name + " is not an array");
              const std::vector<std::size_t> shape(a.shape(), a.shape() + a.ndim());
              if (shape != t.shape)
                throw Error(
                    "GPT.set_parameters",
                    t.name + " is " + shape_of(a) + ", the model's is " +
                        shape_str(std::vector<std::int64_t>(t.shape.begin(), t.shape.end())));
              std::copy_n(a.data(), t.size, t.data);
            }
            g.last.reset();
          },
          py::arg("values"),
          "Overwrites the parameters named in `values` (nanoGPT names, the same shapes; float32).")
      .def(
          "train_step",
          [](PyGpt& g, const py::array& tokens) {
            const auto t = id_list(tokens, "GPT.train_step");
            const auto st = ref::train_step(g.s, std::span<const std::int32_t>(t));
            py::dict d;
            d["step"] = g.s.step;
            d["loss"] = st.loss;
            d["lr"] = st.lr;
            d["grad_norm"] = st.grad_norm;
            return d;
          },
          py::arg("tokens"),
          "One AdamW step on the batch this step draws from the token stream: {step, loss, lr, "
          "grad_norm}.")
      .def(
          "evaluate",
          [](const PyGpt& g, const py::array& tokens, std::int64_t max_windows) {
            const auto t = id_list(tokens, "GPT.evaluate");
            return ref::evaluate(g.s.cfg, g.s.params, t, g.s.opt.batch, g.s.cfg.block_size,
                                 max_windows);
          },
          py::arg("tokens"), py::arg("max_windows") = 64,
          "The mean loss over consecutive windows of the token stream (perplexity: exp of it).")
      .def(
          "generate",
          [](const PyGpt& g, const py::array& ids, std::int64_t max_tokens, double temperature,
             std::int64_t top_k, std::uint64_t seed) {
            const auto out = ref::generate(g.s.cfg, g.s.params, id_list(ids, "GPT.generate"),
                                           max_tokens, temperature, top_k, seed);
            return py::module_::import("numpy").attr("asarray")(py::cast(out), "int32");
          },
          py::arg("ids"), py::arg("max_tokens"), py::arg("temperature") = 1.0, py::arg("top_k") = 0,
          py::arg("seed") = 1,
          "The prompt followed by max_tokens sampled ids (temperature 0: greedy).");
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(gpt)
