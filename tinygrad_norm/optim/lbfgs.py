"""L-BFGS, as ``torch.optim.LBFGS``: a quasi-Newton method that keeps the last ``history_size``
(step, gradient change) pairs and turns the gradient into a search direction with the two-loop
recursion, moving either by a fixed step ``lr`` or by the step a strong-Wolfe line search
(cubic interpolation, bracketing then zooming) finds. ``step(closure)`` runs up to ``max_iter``
iterations, calling ``closure`` (which re-evaluates the model, runs backward and returns the
loss) up to ``max_eval`` times.

All parameters are treated as one flat vector (one parameter group only, as PyTorch's). The
state lives under the first parameter, with PyTorch's names; the decisions (break conditions,
bracket updates, step guesses) are PyTorch's, so float64 trajectories agree to rounding.

Scalars that PyTorch computes as 0-d tensors (dot products, and every step length derived from
them) stay NumPy scalars here, and those it keeps as Python numbers (losses, the first guess
``lr``) stay Python numbers: the line search's interpolation rounds differently for the two, as
PyTorch's does, and a NumPy scalar keeps a float32 model's arithmetic in float32 as a tensor
would.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import enable_grad, mark_written
from ..tensor import Tensor
from .adaptive import _at_least_zero
from .optimizers import Optimizer, _as_index, _number

__all__ = ["LBFGS"]

_ONE_GROUP = "LBFGS doesn't support per-parameter options (parameter groups)"
# PyTorch's step calls its line search without passing the group's tolerance_change, so the
# line search always stops shrinking its bracket at this default
_LINE_SEARCH_TOLERANCE = 1e-9


def _positive_int(v, name):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < 1:
        raise ValueError(f"{name} must be at least 1, got {v}")
    return int(v)


class LBFGS(Optimizer):
    """L-BFGS, as ``torch.optim.LBFGS``. ``max_eval`` None is ``max_iter * 5 // 4``;
    ``line_search_fn`` is None (fixed steps of ``lr``; the first step ever is scaled down to at
    most 1 / sum|g|) or ``"strong_wolfe"``.

    State (under the first parameter): ``func_evals`` and ``n_iter`` (totals over all steps),
    ``d`` (the last direction), ``t`` (its step length), ``old_dirs`` (gradient changes y),
    ``old_stps`` (steps s), ``ro`` (1 / y.s), ``H_diag`` (the initial inverse-Hessian scale
    y.s / y.y), ``prev_flat_grad``, ``prev_loss`` and ``al`` (the recursion's coefficients)."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        _at_least_zero({"lr": lr}, "lr", "learning rate")  # PyTorch's first check
        if max_eval is None:
            max_eval = _positive_int(max_iter, "max_iter") * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        self._validate(defaults)
        super().__init__(params, defaults)

    def _validate(self, group):
        _at_least_zero(group, "lr", "learning rate")
        _positive_int(group["max_iter"], "max_iter")
        _positive_int(group["history_size"], "history_size")
        if not 1 <= _number(group["max_eval"], "max_eval"):  # NaN fails too
            raise ValueError(f"max_eval must be at least 1, got {group['max_eval']}")
        _number(group["tolerance_grad"], "tolerance_grad")
        _number(group["tolerance_change"], "tolerance_change")
        fn = group["line_search_fn"]
        if fn is not None and fn != "strong_wolfe":
            # PyTorch raises this at the first step, after the closure ran; here, at once
            raise ValueError(f"only 'strong_wolfe' is supported, got line_search_fn={fn!r}")

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError(_ONE_GROUP)
        super().add_param_group(param_group)

    # ---- the parameters as one flat vector ------------------------------------------------------
    @property
    def _params(self):
        return self.param_groups[0]["params"]

    def _flat_dtype(self):
        return np.result_type(*[p.dtype for p in self._params])

    def _numel(self):
        return sum(p._data.size for p in self._params)

    def _flat_grad(self):
        """The gradients concatenated (a new array; a parameter without one counts as zeros)."""
        dtype = self._flat_dtype()
        parts = [np.zeros(p._data.size, dtype) if p.grad is None else
                 p.grad._data.reshape(-1).astype(dtype, copy=False) for p in self._params]
        return np.concatenate(parts)

    def _add_to_params(self, t, d):
        """p += t * d, slice by slice, in place (views of p.data follow)."""
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += float(t) * d[offset:offset + n].reshape(p._data.shape)
            offset += n
        mark_written(self._params)  # a graph recorded at the old values can't go backward

    def _copy_params(self):
        return [p._data.copy() for p in self._params]

    def _set_params(self, arrays):
        for p, a in zip(self._params, arrays):
            p._data[...] = a
        mark_written(self._params)

    def _evaluate(self, closure):
        """The closure's loss (as PyTorch, under grad enabled) with its gradients checked."""
        with enable_grad():
            loss = closure()
        self._check_grads()
        return loss

    def _evaluate_at(self, closure, x, t, d):
        """(loss, flat gradient) at x + t d; the parameters are put back to x after."""
        self._add_to_params(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._flat_grad()
        self._set_params(x)
        return loss, flat_grad

    # ---- the step ---------------------------------------------------------------------------------
    def step(self, closure):
        """Up to ``max_iter`` L-BFGS iterations; returns the loss that the first call of
        ``closure`` gave (before any parameter moved). ``closure`` is required: it must zero
        the gradients, re-evaluate the model, call ``backward()`` and return the loss."""
        if not callable(closure):
            raise TypeError(f"LBFGS.step: closure must be callable (it re-evaluates the model and "
                            f"returns the loss), got {type(closure).__name__}")
        self._stepped = True
        for i, p in enumerate(self._params):
            if not p._data.flags.writeable:
                raise ValueError(f"LBFGS.step: parameter {i}'s array is read-only (a broadcast "
                                 f"view?); give it one of its own (p.data = p.data.copy())")
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max(initial=0.0) <= group["tolerance_grad"]:
            return orig_loss  # already optimal: nothing moves, no state beyond the counters
        self._iterate(closure, group, state, loss, flat_grad)
        return orig_loss

    def _iterate(self, closure, group, state, loss, flat_grad):
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        names = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")
        mem = {k: state.get(k) for k in names}
        evals, n_iter, opt_cond = 1, 0, False
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # the very first iteration: steepest descent
                mem.update(d=-flat_grad, old_dirs=[], old_stps=[], ro=[], H_diag=1)
            else:
                self._update_memory(mem, flat_grad, group["history_size"])
                mem["d"] = self._direction(mem, flat_grad, state, group["history_size"])
            mem["prev_flat_grad"], mem["prev_loss"] = flat_grad.copy(), loss
            d = mem["d"]
            # the first step ever is scaled so that it moves at most lr in the 1-norm
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 \
                else lr
            mem["t"] = t
            gtd = flat_grad @ d  # directional derivative
            if gtd > -tol_change:  # not a descent direction (to tolerance): stop here
                break
            if group["line_search_fn"] is not None:
                x = self._copy_params()
                loss, flat_grad, t, ls_evals = _strong_wolfe(
                    lambda step: self._evaluate_at(closure, x, step, d),
                    t, d, loss, flat_grad, gtd, max_ls=max_eval - evals)
                mem["t"] = t
                self._add_to_params(t, d)
                opt_cond = np.abs(flat_grad).max() <= tol_grad
            else:
                self._add_to_params(t, d)
                ls_evals = 0
                # the last iteration does not re-evaluate: with a stochastic loss it would be
                # a call wasted (PyTorch's reasoning); the next step() evaluates anyway
                if n_iter != max_iter:
                    loss = float(self._evaluate(closure))
                    flat_grad = self._flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tol_change:  # the parameters hardly move
                break
            if abs(loss - mem["prev_loss"]) < tol_change:  # the loss hardly changes
                break
        state.update(mem)

    @staticmethod
    def _update_memory(mem, flat_grad, history_size):
        """Remember the last step s = t d and gradient change y, if y.s is safely positive
        (the curvature condition: else the inverse-Hessian estimate would lose definiteness)."""
        y = flat_grad - mem["prev_flat_grad"]
        s = mem["d"] * mem["t"]
        ys = y @ s
        if ys > 1e-10:
            if len(mem["old_dirs"]) == history_size:  # the oldest pair goes
                for k in ("old_dirs", "old_stps", "ro"):
                    mem[k].pop(0)
            mem["old_dirs"].append(y)
            mem["old_stps"].append(s)
            mem["ro"].append(1.0 / ys)
            mem["H_diag"] = ys / (y @ y)

    @staticmethod
    def _direction(mem, flat_grad, state, history_size):
        """-H g by the two-loop recursion, H the L-BFGS inverse Hessian: H_diag times the
        identity, updated by each remembered (s, y) pair from the oldest to the newest."""
        ys_, ss_, ro = mem["old_dirs"], mem["old_stps"], mem["ro"]
        al = state.setdefault("al", [None] * history_size)
        q = -flat_grad
        for i in range(len(ys_) - 1, -1, -1):  # newest to oldest
            al[i] = (ss_[i] @ q) * ro[i]
            q -= al[i] * ys_[i]
        r = q * mem["H_diag"]
        for i in range(len(ys_)):  # oldest to newest
            be_i = (ys_[i] @ r) * ro[i]
            r += (al[i] - be_i) * ss_[i]
        return r

    # ---- state dict -----------------------------------------------------------------------------
    def state_dict(self):
        """As the base's, with the history lists copied too (the live ones change in place)."""
        sd = super().state_dict()
        for entry in sd["state"].values():
            for k, v in entry.items():
                if isinstance(v, list):
                    entry[k] = [x.copy() if isinstance(x, np.ndarray) else x for x in v]
        return sd

    def load_state_dict(self, state_dict):
        """As the base's (the group's options), then the flat-vector state, checked against
        this optimizer's parameter count; a misfit leaves the optimizer as it was."""
        if not isinstance(state_dict, dict) or "state" not in state_dict:
            return super().load_state_dict(state_dict)  # raises the base's message
        before = self.param_groups, self.state
        super().load_state_dict({**state_dict, "state": {}})
        try:
            self.state = type(self.state)(dict, self._loaded_state(state_dict))
        except Exception:
            self.param_groups, self.state = before
            raise

    def _loaded_state(self, state_dict):
        saved = state_dict["state"]
        if not isinstance(saved, dict):
            raise ValueError(f"optimizer state dict: 'state' must be a dict (parameter index -> "
                             f"its state), got {type(saved).__name__}")
        first = _as_index(state_dict["param_groups"][0]["params"][0])
        out = {}
        for key, values in saved.items():
            if _as_index(key) != first:
                raise ValueError(f"loaded state dict has state for parameter {_as_index(key)}; "
                                 f"LBFGS keeps all of its state under its first parameter "
                                 f"({first})")
            if not isinstance(values, dict):
                raise ValueError(f"optimizer state dict: the state of parameter {key} must be a "
                                 f"dict, got {type(values).__name__}")
            out[self._params[0]] = {k: self._loaded_value(k, v) for k, v in values.items()}
        return out

    def _loaded_value(self, name, v):
        """A state entry as step() uses it: flat vectors as arrays of the parameters' total
        size, scalars as Python numbers, lists element by element."""
        if isinstance(v, list) or isinstance(v, tuple):
            return [self._loaded_value(name, x) for x in v]
        if isinstance(v, Tensor):
            v = v._data
        if isinstance(v, np.ndarray) and v.ndim > 0:
            if v.shape != (self._numel(),) or v.dtype.kind not in "biuf":
                raise ValueError(f"loaded state dict has {name!r} of shape {v.shape} and dtype "
                                 f"{v.dtype}; LBFGS's vectors have shape ({self._numel()},)")
            return np.array(v, dtype=self._flat_dtype())
        if isinstance(v, (np.ndarray, np.generic)):
            v = v.item()
        if name in ("func_evals", "n_iter") and (isinstance(v, bool)
                                                  or not isinstance(v, numbers.Integral)):
            raise ValueError(f"loaded state dict has {name} {v!r}; expected an int")
        return v


# ---- the strong-Wolfe line search ----------------------------------------------------------------

def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clipped
    to ``bounds`` (default: between x1 and x2); their midpoint where the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    span = x1 - x2
    # PyTorch divides a Python number by a 0-d tensor as a product with its reciprocal (two
    # roundings, not one); with x1 and x2 nearly equal the difference grows to 1e-7 in t. A
    # NumPy scalar here stands for a value PyTorch holds as a tensor (see the module docstring).
    if isinstance(span, np.generic):
        secant = 3 * (f1 - f2) * (1.0 / span)
    else:
        secant = 3 * (f1 - f2) / span
    d1 = g1 + g2 - secant
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(disc)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9,
                  tolerance_change=_LINE_SEARCH_TOLERANCE, max_ls=25):
    """A step length t along d meeting the strong Wolfe conditions -- sufficient decrease
    f(t) <= f + c1 t gtd and curvature |f'(t)| <= c2 |gtd| -- or the best point found within
    ``max_ls`` evaluations. ``evaluate(t)`` gives (loss, flat gradient) at x + t d. Returns
    (loss, gradient, t, evaluations)."""
    f_new, g_new = evaluate(t)
    evals, ls_iter = 1, 0
    gtd_new = g_new @ d
    # phase 1: grow t until [t_prev, t] brackets an acceptable point, or t itself is one
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    bracket = None
    while ls_iter < max_ls:
        too_high = f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev)
        if not too_high and abs(gtd_new) <= -c2 * gtd:
            return f_new, g_new, t, evals  # t meets both conditions
        if too_high or gtd_new >= 0:  # past a minimum: it lies between t_prev and t
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        # still descending: extrapolate, at least 1% beyond t and at most 10 t
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new @ d
        ls_iter += 1
    if bracket is None:  # out of evaluations: the better of the start and the last point
        bracket = [[0, f, g, None], [t, f_new, g_new, None]]
        ls_iter = max_ls
    return _zoom(evaluate, bracket, d, f, gtd, c1, c2, tolerance_change, max_ls, ls_iter, evals)


def _zoom(evaluate, bracket, d, f, gtd, c1, c2, tolerance_change, max_ls, ls_iter, evals):
    """Phase 2: shrink the bracket [[t, f, g, gtd], [t, f, g, gtd]] by cubic interpolation until
    a point meets the strong Wolfe conditions, the bracket is shorter than ``tolerance_change``
    (in max-norm of the move), or ``max_ls`` evaluations are spent; returns its low end."""
    d_norm = np.abs(d).max()
    low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
    insufficient = False
    while ls_iter < max_ls:
        (a, fa, _, ga), (b, fb, _, gb) = bracket
        if abs(b - a) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(a, fa, ga, b, fb, gb)
        t, insufficient = _safeguard(t, min(a, b), max(a, b), insufficient)
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new @ d
        ls_iter += 1
        point = [t, f_new, g_new, gtd_new]
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = point  # too high: the new point bounds from above
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
            continue
        if abs(gtd_new) <= -c2 * gtd:
            bracket[low] = point
            break  # acceptable
        if gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
            bracket[high] = bracket[low]  # the minimum lies on the other side of the new point
        bracket[low] = point
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals


def _safeguard(t, lo, hi, insufficient):
    """Keep the interpolated t away from the bracket's ends: within 10% of its length of an end
    (or outside) twice running, or outside at all, it moves to 10% inside the nearer end.
    Returns (t, whether this t was too close)."""
    margin = 0.1 * (hi - lo)
    if min(hi - t, t - lo) >= margin:
        return t, False
    if insufficient or t >= hi or t <= lo:
        return (hi - margin if abs(t - hi) < abs(t - lo) else lo + margin), False
    return t, True
