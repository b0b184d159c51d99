#include "engine/autograd.h"

#include "engine/error.h"
#include "engine/profile.h"

namespace duet {
namespace {
thread_local bool g_grad_enabled = true;
thread_local std::vector<Node> g_tape;
}  // namespace

bool grad_enabled() { return g_grad_enabled; }

NoGrad::NoGrad() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = previous_; }

bool any_requires_grad(std::initializer_list<Tensor> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(const char* name, std::vector<Tensor> inputs, Tensor& output,
            std::function<void(const Tensor&)> backward) {
  if (!any_requires_grad(inputs)) return;
  output.set_requires_grad(true);
  g_tape.push_back(Node{name, std::move(inputs), output, std::move(backward)});
}

void backward(const Tensor& loss) {
  DUET_CHECK(loss.defined() && loss.numel() == 1, "backward() needs a one-element loss, got shape ",
             loss.defined() ? shape_str(loss.shape()) : std::string("(undefined)"));
  DUET_CHECK(loss.requires_grad(), "backward(): the loss does not depend on anything that requires grad");
  Tensor seed = Tensor::full(loss.shape(), 1.0, loss.dtype(), loss.device());
  Tensor(loss).set_grad(seed);
  // Move the tape out first: a backward closure must never see nodes being appended.
  std::vector<Node> tape;
  tape.swap(g_tape);
  for (auto it = tape.rbegin(); it != tape.rend(); ++it) {
    Tensor g = it->output.grad();
    if (!g.defined()) continue;
    profile::Scope timed(it->name, profile::Part::backward);
    it->backward(g);
  }
}

void clear_tape() { g_tape.clear(); }
std::size_t tape_size() { return g_tape.size(); }

Tensor grad_buffer(Tensor t) {
  if (!t.defined() || !t.requires_grad()) return Tensor();
  return t.grad_or_zeros();
}

}  // namespace duet
