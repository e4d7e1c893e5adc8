"""Every gcbench optimizer in PyTorch, written in Keras 3's operations and order (float32),
with GC on the gradient or on the update; and the PyTorch built-ins they correspond to, where
one does. Used by step_check.py --optimizers.

Keras 3 (keras/src/optimizers/*.py), per element, g the gradient, t the step from 1:
  sgd      momentum 0: w -= g*lr;  else m = m*momentum - g*lr; w += m
           (nesterov: w += m*momentum - g*lr)
  rmsprop  v = rho*v + (1-rho)*g^2;  w -= lr*g / sqrt(v + eps)
  adam     alpha = lr*sqrt(1 - b2^t)/(1 - b1^t); m += (g-m)*(1-b1); v += (g^2-v)*(1-b2);
           w -= m*alpha / (sqrt(v) + eps)       (adamw: the same, weight_decay 0.004)
  adagrad  acc (from initial_accumulator_value) += g^2;  w -= lr*g / sqrt(acc + eps)
  weight decay (any optimizer): w -= w*wd*lr before the update (base_optimizer); the GC
  authors' coupled form adds wd*w to the gradient before GC instead.
PyTorch 1.13's built-ins and how they differ:
  SGD      buf = momentum*buf + g; w -= lr*buf (nesterov: w -= lr*(g + momentum*buf)): the
           same weights as Keras's for a constant lr, up to rounding; weight_decay is coupled.
  RMSprop  eps outside the square root: lr*g / (sqrt(v) + eps).
  Adam     denom = sqrt(v)/sqrt(1 - b2^t) + eps: eps added to the bias-corrected root, i.e.
           Keras's eps scaled by sqrt(1 - b2^t); AdamW: decay w *= 1 - lr*wd first, as Keras.
  Adagrad  eps outside the square root: lr*g / (sqrt(acc) + eps).
"""
import torch

DEFAULTS = {
    "rmsprop": dict(lr=1e-4, rho=0.9, eps=1e-7),
    "sgd": dict(lr=0.01, momentum=0.0, nesterov=False),
    "adam": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7),
    "adamw": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.004),
    "adagrad": dict(lr=1e-3, initial_accumulator=0.1, eps=1e-7),
}


def centralizes(p, scope):
    if scope == "none" or p.dim() < 2:
        return False
    return scope == "all" or (scope == "conv" and p.dim() == 4)


def row_mean(x):
    return x.double().mean(dim=tuple(range(1, x.dim())), keepdim=True).float()


def f32(x):
    return torch.tensor(x, dtype=torch.float32)


class KerasOptimizer:
    """One of gcbench's optimizers on a list of float32 tensors, as Keras 3 computes it."""

    def __init__(self, name, params, hp, scope="none", gc_on="gradient"):
        self.name, self.params, self.scope, self.gc_on = name, params, scope, gc_on
        self.hp = dict(DEFAULTS[name], **hp)
        self.t = 0
        init = self.hp.get("initial_accumulator", 0.0) if name == "adagrad" else 0.0
        self.s0 = [torch.full_like(p, init) for p in params]
        self.s1 = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, grads):
        self.t += 1
        h = self.hp
        lr = f32(h["lr"])
        wd = h.get("weight_decay", 0.0)
        coupled = wd != 0.0 and h.get("coupled", False)
        for i, (w, g) in enumerate(zip(self.params, grads)):
            centered = centralizes(w, self.scope)
            if coupled:
                g = g + f32(wd) * w
            if centered and self.gc_on == "gradient":
                g = g - row_mean(g)
            s0, s1 = self.s0[i], self.s1[i]
            adds = False
            if self.name == "sgd" and h["momentum"] == 0.0:
                step = g * lr
            elif self.name == "sgd":
                mom = f32(h["momentum"])
                s0.copy_(s0 * mom - g * lr)
                step = s0 * mom - g * lr if h["nesterov"] else s0.clone()
                adds = True
            elif self.name == "rmsprop":
                rho = f32(h["rho"])
                s0.copy_(rho * s0 + (f32(1.0) - rho) * (g * g))  # 1 - rho in float, as gcbench
                step = (lr * g) / torch.sqrt(s0 + f32(h["eps"]))
            elif self.name == "adagrad":
                s0.copy_(s0 + g * g)
                step = (lr * g) / torch.sqrt(s0 + f32(h["eps"]))
            else:
                t = f32(float(self.t))
                b1t, b2t = torch.pow(f32(h["beta1"]), t), torch.pow(f32(h["beta2"]), t)
                alpha = lr * torch.sqrt(f32(1.0) - b2t) / (f32(1.0) - b1t)
                s0.copy_(s0 + (g - s0) * f32(1.0 - h["beta1"]))
                s1.copy_(s1 + (g * g - s1) * f32(1.0 - h["beta2"]))
                step = (s0 * alpha) / (torch.sqrt(s1) + f32(h["eps"]))
            if centered and self.gc_on == "update":
                step = step - row_mean(step)
            if wd != 0.0 and not coupled:
                w.copy_(w - w * f32(wd) * lr)
            w.copy_(w + step if adds else w - step)


class TorchBuiltin:
    """PyTorch's own optimizer for the same setting, GC applied to the gradient (or, coupled,
    to the gradient plus wd*w) before torch's step; None where torch has none (gc on the
    update, decoupled decay outside AdamW)."""

    def __init__(self, name, params, hp, scope="none"):
        h = dict(DEFAULTS[name], **hp)
        self.params, self.scope, self.h = params, scope, h
        wd = h.get("weight_decay", 0.0)
        self.coupled_wd = wd if h.get("coupled", False) else 0.0
        if name == "sgd":
            self.opt = torch.optim.SGD(params, lr=h["lr"], momentum=h["momentum"], nesterov=h["nesterov"])
        elif name == "rmsprop":
            self.opt = torch.optim.RMSprop(params, lr=h["lr"], alpha=h["rho"], eps=h["eps"])
        elif name in ("adam", "adamw") and (wd == 0.0 or self.coupled_wd):
            self.opt = torch.optim.Adam(params, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"])
        elif name in ("adam", "adamw"):
            self.opt = torch.optim.AdamW(params, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                                         weight_decay=wd)
        else:
            self.opt = torch.optim.Adagrad(params, lr=h["lr"], initial_accumulator_value=h["initial_accumulator"],
                                           eps=h["eps"])

    @staticmethod
    def available(name, hp, gc_on):
        h = dict(DEFAULTS[name], **hp)
        decoupled = h.get("weight_decay", 0.0) != 0.0 and not h.get("coupled", False)
        return gc_on == "gradient" and not (decoupled and name not in ("adam", "adamw"))

    @torch.no_grad()
    def step(self, grads):
        for w, g in zip(self.params, grads):
            if self.coupled_wd:
                g = g + f32(self.coupled_wd) * w
            if centralizes(w, self.scope):
                g = g - row_mean(g)
            w.grad = g.clone()
        self.opt.step()
