/// \file
/// \ingroup group_optimizer
/// \brief Bindings of the optimizer: llmlab.ref sgd_step, adam_step, adamw_step, clip_grad_norm,
/// lr_at; llmlab.cuda adamw_step (the fused kernel on one tensor) and grad_norm.
///
/// Steps are element-wise, so any shape: the bindings hand the C++ functions flattened copies and
/// return new arrays of the input's shape (NumPy's arrays are never updated in place).

#include "llmlab/cuda/optimizer.cuh"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "llmlab/ref/optimizer.hpp"

namespace llmlab::python {
namespace {

/// x flattened to (n).
py::array flat(const py::array& x) { return x.attr("reshape")(py::make_tuple(-1)); }

/// The reference's Adam (decoupled = false) or AdamW step on copies of the arrays: (param, m, v)
/// of param's shape.
py::tuple adam_like(const char* fn, bool decoupled, const py::array& param, const py::array& grad,
                    const py::array& m, const py::array& v, std::int64_t step,
                    const ref::AdamOptions& o) {
  return dispatch_float(
      fn, {{"param", &param}, {"grad", &grad}, {"m", &m}, {"v", &v}}, [&]<class T>() -> py::tuple {
        auto p = to_xtensor<T, 1>(flat(param), fn, "param");
        const auto g = to_xtensor<T, 1>(flat(grad), fn, "grad");
        auto mm = to_xtensor<T, 1>(flat(m), fn, "m");
        auto vv = to_xtensor<T, 1>(flat(v), fn, "v");
        (decoupled ? ref::adamw_step<T> : ref::adam_step<T>)(p, g, mm, vv, step, o);
        const auto shape = shape_vec(param);
        return py::make_tuple(reshaped(to_numpy(p), shape), reshaped(to_numpy(mm), shape),
                              reshaped(to_numpy(vv), shape));
      });
}

/// One of the reference's two Adam bindings: its name, its weight decay and its default (torch's).
struct AdamBinding {
  const char* name;     ///< "adamw_step" or "adam_step"
  bool decoupled;       ///< AdamW's decay, or Adam's L2
  double weight_decay;  ///< the default, as torch.optim's
  const char* what;     ///< the docstring's first sentence
};

}  // namespace

void bind_optimizer(py::module_& ref, py::module_& cuda) {
  for (const AdamBinding b :
       {AdamBinding{"adamw_step", true, 1e-2,
                    "One torch.optim.AdamW step (decoupled weight decay). "},
        AdamBinding{"adam_step", false, 0.0,
                    "One torch.optim.Adam step (L2 weight decay added to the gradient). "}})
    ref.def(
        b.name,
        [b](const py::array& param, const py::array& grad, const py::array& m, const py::array& v,
            std::int64_t step, double lr, double beta1, double beta2, double eps,
            double weight_decay) {
          return adam_like(b.name, b.decoupled, param, grad, m, v, step,
                           {lr, beta1, beta2, eps, weight_decay});
        },
        py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("step"),
        py::arg("lr") = 1e-3, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
        py::arg("eps") = 1e-8, py::arg("weight_decay") = b.weight_decay,
        (std::string(b.what) +
         "step counts from 1; lr, beta1, beta2, eps, weight_decay as torch.optim's. Returns new "
         "(param, m, v) of param's shape, in its dtype (float64 or float32).")
            .c_str());
  ref.def(
      "sgd_step",
      [](const py::array& param, const py::array& grad, const py::array& momentum_buffer,
         std::int64_t step, double lr, double momentum, double dampening, double weight_decay,
         bool nesterov) {
        const char* fn = "sgd_step";
        return dispatch_float(
            fn, {{"param", &param}, {"grad", &grad}, {"momentum_buffer", &momentum_buffer}},
            [&]<class T>() -> py::tuple {
              auto p = to_xtensor<T, 1>(flat(param), fn, "param");
              const auto g = to_xtensor<T, 1>(flat(grad), fn, "grad");
              auto b = to_xtensor<T, 1>(flat(momentum_buffer), fn, "momentum_buffer");
              ref::sgd_step<T>(p, g, b, step, {lr, momentum, dampening, weight_decay, nesterov});
              const auto shape = shape_vec(param);
              return py::make_tuple(reshaped(to_numpy(p), shape),
                                    reshaped(to_numpy(b), shape_vec(momentum_buffer)));
            });
      },
      py::arg("param"), py::arg("grad"), py::arg("momentum_buffer"), py::arg("step"), py::arg("lr"),
      py::arg("momentum") = 0.0, py::arg("dampening") = 0.0, py::arg("weight_decay") = 0.0,
      py::arg("nesterov") = false,
      "One torch.optim.SGD step; step counts from 1 (step 1 fills the momentum buffer with the "
      "gradient). Returns new (param, momentum_buffer).");
  ref.def(
      "clip_grad_norm",
      [](const std::vector<std::optional<py::array>>& grads, double max_norm) {
        const char* fn = "clip_grad_norm";
        const py::array* first = nullptr;
        for (const auto& g : grads)
          if (g && first == nullptr) first = &*g;
        if (first == nullptr) return py::make_tuple(0.0, py::list(py::cast(grads)));
        return dispatch_float(fn, {{"grads", first}}, [&]<class T>() -> py::tuple {
          std::vector<xt::xtensor<T, 1>> held;
          held.reserve(grads.size());
          std::vector<xt::xtensor<T, 1>*> list;
          for (const auto& g : grads) {
            if (!g) {
              list.push_back(nullptr);
              continue;
            }
            held.push_back(to_xtensor<T, 1>(flat(*g), fn, "grads"));
            list.push_back(&held.back());
          }
          const double norm = ref::clip_grad_norm<T>(list, max_norm);
          py::list out;
          std::size_t k = 0;
          for (const auto& g : grads) {
            if (!g)
              out.append(py::none());
            else
              out.append(reshaped(to_numpy(held[k++]), shape_vec(*g)));
          }
          return py::make_tuple(norm, out);
        });
      },
      py::arg("grads"), py::arg("max_norm"),
      "torch.nn.utils.clip_grad_norm_: the global norm of every gradient (None: a frozen "
      "parameter, skipped), accumulated in double; the gradients scaled by max_norm / (norm + "
      "1e-6) when that is < 1. Returns (norm before clipping, list of new gradients).");
  ref.def("lr_at", &ref::lr_at, py::arg("step"), py::arg("max_lr"), py::arg("min_lr"),
          py::arg("warmup_steps"), py::arg("total_steps"),
          "The learning rate of step s (from 0): max_lr (s + 1) / W during the warm-up, then a "
          "cosine from max_lr to min_lr at s = total_steps, min_lr after.");

  cuda.def(
      "adamw_step",
      [](const py::array& param, const py::array& grad, const py::array& m, const py::array& v,
         std::int64_t step, float lr, float beta1, float beta2, float eps, float weight_decay) {
        const char* fn = "adamw_step";
        auto dp = device_input<float>(param, fn, "param");
        auto dg = device_input<float>(grad, fn, "grad");
        auto dm = device_input<float>(m, fn, "m");
        auto dv = device_input<float>(v, fn, "v");
        using Named = std::pair<const testing::DeviceBuffer<float>*, const char*>;
        for (const Named& d : {Named{&dg, "grad"}, Named{&dm, "m"}, Named{&dv, "v"}})
          if (d.first->size() != dp.size())
            throw Error(fn, "param has " + std::to_string(dp.size()) + " elements but " + d.second +
                                " has " + std::to_string(d.first->size()));
        const std::vector<cuda::AdamwTensor<float>> t = {
            {dp.get(), nullptr, dg.cget(), dm.get(), dv.get(), dp.size(), 0}};
        const cuda::AdamwList<float> list(t);
        launch_checked(fn, [&] {
          return cuda::adamw_step(list, {lr, beta1, beta2, eps, weight_decay, step, 0});
        });
        launch_checked(fn, [] { return cudaDeviceSynchronize(); });
        const auto shape = shape_vec(param);
        return py::make_tuple(to_numpy(dp, shape), to_numpy(dm, shape), to_numpy(dv, shape));
      },
      py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("step"),
      py::arg("lr") = 1e-3f, py::arg("beta1") = 0.9f, py::arg("beta2") = 0.999f,
      py::arg("eps") = 1e-8f, py::arg("weight_decay") = 1e-2f,
      "The fused AdamW kernel on one fp32 tensor (any shape; inputs rounded to float32). Returns "
      "new float32 (param, m, v).");
  cuda.def(
      "grad_norm",
      [](const std::vector<py::array>& grads, float max_norm) {
        const char* fn = "grad_norm";
        std::vector<float> all;  // every gradient, concatenated: one buffer, tensors at offsets
        std::vector<std::int64_t> sizes;
        for (const auto& g : grads) {
          if (!holds<float>(g) && !holds<double>(g)) bad_float_dtype(fn, "grads", g);
          const auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(g);
          all.insert(all.end(), f.data(), f.data() + f.size());
          sizes.push_back(static_cast<std::int64_t>(f.size()));
        }
        testing::DeviceBuffer<float> dg(all);
        std::vector<cuda::AdamwTensor<float>> t;
        std::int64_t first = 0;
        for (const std::int64_t n : sizes) {
          // grad_norm reads only grad; the other pointers are the same memory, never written.
          float* d = dg.get() + first;
          t.push_back({d, nullptr, d, d, d, n, 0});
          first += n;
        }
        const cuda::AdamwList<float> list(t);
        testing::DeviceBuffer<float> out(2);
        launch_checked(fn, [&] { return cuda::grad_norm(list, max_norm, out.get()); });
        launch_checked(fn, [] { return cudaDeviceSynchronize(); });
        const auto v = out.widened();
        return py::make_tuple(v[0], v[1]);
      },
      py::arg("grads"), py::arg("max_norm"),
      "The global norm of the float32 gradients in the kernels' two deterministic stages, and "
      "the clip factor min(1, max_norm / (norm + 1e-6)). Returns (norm, clip).");
}

}  // namespace llmlab::python

LLMLAB_PYTHON_REGISTER(optimizer)
