"""Differential fuzzer: random programs with recorded in-place writes, torch vs tinygrad_norm
(opt-in: not collected by pytest; needs torch).

Each seed builds a small program mixing out-of-place ops and in-place writes (methods, item
assignment, augmented assignment) into intermediates, constant buffers and views, then runs it
in both libraries with backward, grad() or double backward, and compares every value and
gradient (float64). Mismatches are classified; the classes documented in docs/api.md
("Recorded in-place writes": non-basic views refused, overlapping writes torch refuses, relu
reading its input, repeated advanced indices, reshape to its own shape) are expected.

Run from the repository root::

    python tests/fuzz_inplace.py START COUNT       # seeds START .. START+COUNT-1, a summary
    python tests/fuzz_inplace.py 23041 1 -v        # one seed: the program and the traceback
"""
import sys, random, traceback, json
import numpy as np
import torch
import tinygrad_norm as tg
import tinygrad_norm.functional as TF
import torch.nn.functional as TTF

torch.set_default_dtype(torch.float64)


class Lib:
    def __init__(self, name):
        self.name = name
        if name == "torch":
            self.L, self.F = torch, TTF
            self.C = lambda a: torch.tensor(np.array(a, dtype=np.float64))
            self.M = lambda a: torch.tensor(np.array(a, dtype=bool))
            self.I = lambda a: torch.tensor(np.array(a, dtype=np.int64))
            self.leaf = lambda a: torch.tensor(np.array(a, dtype=np.float64), requires_grad=True)
            self.grad = torch.autograd.grad
        else:
            self.L, self.F = tg, TF
            self.C = lambda a: tg.Tensor(np.array(a, dtype=np.float64))
            self.M = lambda a: tg.Tensor(np.array(a, dtype=bool))
            self.I = lambda a: tg.Tensor(np.array(a, dtype=np.int64))
            self.leaf = lambda a: tg.Tensor(np.array(a, dtype=np.float64), requires_grad=True)
            self.grad = tg.grad

    def ns(self, K):
        return dict(L=self.L, F=self.F, C=self.C, M=self.M, I=self.I, leaf=self.leaf, K=K)


def npv(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        return t.detach().numpy().copy()
    return np.array(t.numpy() if hasattr(t, "numpy") else t, dtype=np.float64)


def is_t(v):
    return isinstance(v, (torch.Tensor, tg.Tensor))


class Gen:
    """Builds a program line by line, executing each line in a live torch namespace for shapes."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.nr = np.random.default_rng(seed)
        self.K = {}
        self.lines = []
        self.tl = Lib("torch")
        self.ns = self.tl.ns(self.K)
        self.n = 0
        self.leaves = []
        self.failed = False

    def const(self, shape, kind="f"):
        k = f"k{len(self.K)}"
        if kind == "f":
            self.K[k] = self.nr.standard_normal(shape).round(3)
        elif kind == "b":
            self.K[k] = self.nr.random(shape) < 0.5
        return k

    def emit(self, line):
        try:
            exec(line, self.ns)
        except Exception as e:
            self.lines.append(line)
            self.failed = True
            return False
        self.lines.append(line)
        return True

    def fresh(self):
        self.n += 1
        return f"v{self.n}"

    def vars(self, pred=lambda v: True):
        return [k for k, v in self.ns.items() if k[0] in "vxb" and k[1:].isdigit() and is_t(v)
                and pred(v)]

    def shape(self, name):
        return tuple(self.ns[name].shape)

    def pick(self, pred=lambda v: True):
        vs = self.vars(pred)
        return self.r.choice(vs) if vs else None

    def operand_for(self, shape, allow_scalar=True):
        """An expression broadcastable TO `shape` (its result shape == shape)."""
        r = self.r
        cands = [v for v in self.vars() if self._bcast_to(self.shape(v), shape)]
        c = r.random()
        if allow_scalar and c < 0.15:
            return repr(round(r.uniform(-2, 2), 2))
        if cands and c < 0.75:
            return r.choice(cands)
        sh = shape
        if len(shape) >= 1 and r.random() < 0.3:
            sh = shape[1:]
        return f"C(K['{self.const(sh)}'])"

    @staticmethod
    def _bcast_to(s, shape):
        if len(s) > len(shape):
            return False
        try:
            return tuple(np.broadcast_shapes(s, shape)) == tuple(shape)
        except ValueError:
            return False

    def basic_index(self, shape):
        r = self.r
        nd = len(shape)
        if nd == 0:
            return "..."
        opts = []
        i0 = r.randrange(shape[0]) if shape[0] else None
        if i0 is not None:
            opts.append(str(i0))
            opts.append(str(-1))
        if shape[0] >= 2:
            a = r.randrange(shape[0] - 1)
            b = r.randrange(a + 1, shape[0] + 1)
            opts.append(f"{a}:{b}")
            opts.append("::2")
        if nd >= 2 and shape[1]:
            opts.append(f":, {r.randrange(shape[1])}")
            if shape[1] >= 2:
                opts.append(f"..., 1:")
            if i0 is not None:
                opts.append(f"{i0}, {r.randrange(shape[1])}")
        if not opts:
            return "..."
        return r.choice(opts)

    def adv_index(self, shape):
        r = self.r
        if not shape or shape[0] == 0:
            return None
        n = r.randint(1, 3)
        uniq = r.random() < 0.7
        if uniq:
            idx = r.sample(range(shape[0]), min(n, shape[0]))
        else:
            idx = [r.randrange(shape[0]) for _ in range(n)]
        c = r.random()
        if c < 0.5:
            return f"I({idx})"
        if c < 0.7:
            return f"{idx}"
        if c < 0.85 and len(shape) >= 2 and shape[1]:
            return f"I({idx}), {r.randrange(shape[1])}"
        k = self.const(shape, "b")
        return f"M(K['{k}'])"

    # ---- steps ----
    def step_outofplace(self):
        r = self.r
        a = self.pick(lambda v: v.dtype == torch.float64)
        if a is None:
            return
        sh = self.shape(a)
        v = self.fresh()
        amax = float(self.ns[a].detach().abs().max()) if self.ns[a].numel() else 0.0
        kind = r.choice(["bin", "bin", "unary", "unary", "matmul", "getb", "getb", "geta",
                         "reshape", "sum", "clone", "scal"])
        if kind == "bin":
            op = r.choice(["+", "*", "-"])
            b = self.operand_for(sh)
            if r.random() < 0.5:
                line = f"{v} = {a} {op} {b}"
            else:
                line = f"{v} = {b} {op} {a}"
        elif kind == "unary":
            f = r.choice(["tanh", "sigmoid", "relu"] + (["exp"] if amax < 3 else []))
            line = f"{v} = {a}.{f}()"
        elif kind == "scal":
            line = f"{v} = {a} * {round(r.uniform(-2, 2), 2)}"
        elif kind == "matmul":
            if len(sh) not in (1, 2) or sh[-1] == 0:
                return
            m = sh[-1]
            cands = [w for w in self.vars(lambda t: t.dim() == 2 and t.shape[0] == m)]
            if cands and r.random() < 0.6:
                b = r.choice(cands)
            else:
                b = f"C(K['{self.const((m, r.randint(1, 4)))}'])"
            line = f"{v} = {a} @ {b}"
        elif kind == "getb":
            line = f"{v} = {a}[{self.basic_index(sh)}]"
            if r.random() < 0.2 and len(sh) >= 1 and sh[0] >= 3:
                line = f"{v} = {a}[1:3][0]"
        elif kind == "geta":
            ix = self.adv_index(sh)
            if ix is None:
                return
            line = f"{v} = {a}[{ix}]"
        elif kind == "reshape":
            opts = [f"{a}.reshape(-1)", f"{a}.unsqueeze(0)"]
            if len(sh) == 2:
                opts += [f"{a}.reshape({sh[1]}, {sh[0]})", f"{a}.t()", f"{a}.T"]
            line = f"{v} = {r.choice(opts)}"
        elif kind == "sum":
            if len(sh) == 0:
                line = f"{v} = {a}.sum()"
            else:
                line = f"{v} = " + r.choice([f"{a}.sum()", f"{a}.sum(0)",
                                             f"{a}.sum(dim=-1, keepdim=True)"])
        else:
            line = f"{v} = {a}.clone()"
        self.emit(line)

    def write_expr(self, t):
        """An in-place expression on target expression t (returns code, or None)."""
        r = self.r
        ns = self.ns
        try:
            val = eval(t, ns)
        except Exception:
            return None
        sh = tuple(val.shape)
        amax = float(val.detach().abs().max()) if val.numel() else 0.0
        kind = r.choice(["add", "add", "mul", "sub", "div", "self", "unary", "unary", "relu_f",
                         "clamp", "masked", "index_add", "scatter", "copy", "fill", "zero",
                         "dropout", "pow"])
        if kind == "add":
            b = self.operand_for(sh)
            return f"{t}.add_({b}" + (", alpha=2)" if r.random() < 0.3 else ")")
        if kind == "sub":
            return f"{t}.sub_({self.operand_for(sh)})"
        if kind == "mul":
            return f"{t}.mul_({self.operand_for(sh)})"
        if kind == "div":
            k = self.const(sh)
            self.K[k] = np.abs(self.K[k]) + 0.5
            return f"{t}.div_(C(K['{k}']))" if r.random() < 0.5 else f"{t}.div_(2.0)"
        if kind == "self":
            return f"{t}.{r.choice(['add_', 'mul_', 'sub_'])}({t})"
        if kind == "unary":
            f = r.choice(["tanh_", "sigmoid_", "relu_", "neg_"] + (["exp_"] if amax < 3 else []))
            return f"{t}.{f}()"
        if kind == "pow":
            return f"{t}.pow_(2)" if amax < 5 else None
        if kind == "relu_f":
            return f"F.relu({t}, inplace=True)"
        if kind == "clamp":
            return f"{t}.clamp_(-0.5, 0.5)"
        if kind == "masked":
            k = self.const(sh, "b")
            return f"{t}.masked_fill_(M(K['{k}']), 0.25)"
        if kind == "index_add":
            if len(sh) == 0 or sh[0] == 0:
                return None
            idx = r.sample(range(sh[0]), r.randint(1, sh[0]))
            src = self.operand_for((len(idx),) + sh[1:], allow_scalar=False)
            if src.startswith("C(") or self.shape(src) != (len(idx),) + sh[1:]:
                src = f"C(K['{self.const((len(idx),) + sh[1:])}'])"
            return f"{t}.index_add_(0, I({idx}), {src})"
        if kind == "scatter":
            if len(sh) != 2 or sh[1] == 0:
                return None
            idx = [[r.randrange(sh[1])] for _ in range(sh[0])]
            cands = self.vars(lambda u: tuple(u.shape) == (sh[0], 1))
            src = r.choice(cands) if cands and r.random() < 0.6 else \
                f"C(K['{self.const((sh[0], 1))}'])"
            return f"{t}.scatter_(1, I({idx}), {src})"
        if kind == "copy":
            return f"{t}.copy_({self.operand_for(sh, allow_scalar=False)})"
        if kind == "fill":
            return f"{t}.fill_(0.5)"
        if kind == "zero":
            return f"{t}.zero_()"
        if kind == "dropout":
            return f"F.dropout({t}, {r.choice([0.0, 1.0])}, True, True)"

    def step_inplace(self):
        r = self.r
        t = self.pick(lambda v: v.dtype == torch.float64)
        if t is None:
            return
        sh = self.shape(t)
        c = r.random()
        if c < 0.4:
            e = self.write_expr(t)
            if e:
                self.emit(e)
        elif c < 0.6:  # item assignment
            ix = self.basic_index(sh) if r.random() < 0.6 else self.adv_index(sh)
            if ix is None:
                return
            try:
                tsh = tuple(eval(f"{t}[{ix}]", self.ns).shape)
            except Exception:
                return
            v = self.operand_for(tsh)
            op = r.choice(["=", "=", "+=", "*="])
            self.emit(f"{t}[{ix}] {op} {v}")
        elif c < 0.8:  # a write into a view
            ix = self.basic_index(sh)
            if r.random() < 0.5:
                e = self.write_expr(f"{t}[{ix}]")
                if e:
                    self.emit(e)
            else:
                h = self.fresh()
                if self.emit(f"{h} = {t}[{ix}]"):
                    e = self.write_expr(h)
                    if e:
                        self.emit(e)
        elif c < 0.87:
            opts = [f"{t}.unsqueeze_(0)"]
            if len(sh) == 2:
                opts.append(f"{t}.t_()")
            if len(sh) >= 1 and sh[0] == 1:
                opts.append(f"{t}.squeeze_(0)")
            if len(sh) >= 1:
                opts.append(f"{t} += {self.operand_for(sh)}")
            self.emit(r.choice(opts))
        elif c < 0.93:  # a write into a non-basic view
            if len(sh) == 2:
                e = self.write_expr(r.choice([f"{t}.t()", f"{t}.reshape(-1)"]))
                if e:
                    self.emit(e)
        else:  # a loop: an RNN-like buffer fill
            if len(sh) < 1 or sh[0] < 2:
                return
            row = sh[1:]
            w = self.operand_for(row, allow_scalar=True)
            src = self.pick(lambda u: tuple(u.shape) == sh and u.requires_grad)
            src = src or self.operand_for(sh, allow_scalar=False)
            op = r.choice(["=", "+="])
            self.emit(f"for i in range(1, {sh[0]}):\n    {t}[i] {op} ({t}[i - 1] * {w} + "
                      f"{src}[i]).tanh()")

    def build(self):
        r = self.r
        nleaf = r.randint(1, 3)
        for i in range(nleaf):
            shp = r.choice([(3, 4), (4,), (4, 4), (3, 4), (2, 3, 4)])
            k = self.const(shp)
            self.emit(f"x{i} = leaf(K['{k}'])")
            self.leaves.append(f"x{i}")
        if r.random() < 0.6:
            shp = r.choice([(3, 4), (5, 4), (4,)])
            self.emit(f"b0 = C(np.zeros({shp}))" if False else f"b0 = C(K['{self.const(shp)}'] * 0)")
        for _ in range(r.randint(3, 12)):
            if self.failed:
                break
            if r.random() < 0.5:
                self.step_outofplace()
            else:
                self.step_inplace()
        # outputs: some tensors that require grad
        outs = self.vars(lambda v: v.requires_grad and v.dtype == torch.float64)
        outs = [o for o in outs if o not in self.leaves or r.random() < 0.3]
        r.shuffle(outs)
        outs = outs[: r.randint(1, 3)]
        self.outs = [(o, self.const(self.shape(o))) for o in outs]
        self.mode = r.choice(["backward"] * 3 + ["double", "grad"])
        # grad() inputs: leaves and some intermediates
        inter = [v for v in self.vars(lambda v: v.requires_grad) if v not in self.leaves]
        self.ginputs = list(self.leaves) + r.sample(inter, min(len(inter), r.randint(0, 2)))
        return dict(lines=self.lines, K=self.K, outs=self.outs, leaves=self.leaves,
                    mode=self.mode, ginputs=self.ginputs)


def run(prog, libname):
    lib = Lib(libname)
    K = {k: v.copy() for k, v in prog["K"].items()}
    ns = lib.ns(K)
    ns["np"] = np
    res = dict(err=None, err_at=None, vals={}, grads={}, rg={})
    for i, line in enumerate(prog["lines"]):
        try:
            exec(line, ns)
        except Exception as e:
            res["err"], res["err_at"] = e, i
            res["tb"] = traceback.format_exc()
            return res
    names = [k for k, v in ns.items() if k[0] in "vxb" and k[1:].isdigit() and is_t(v)]
    for k in names:
        res["vals"][k] = npv(ns[k])
        res["rg"][k] = bool(ns[k].requires_grad)
    outs = [(o, k) for o, k in prog["outs"] if o in ns and is_t(ns[o])]
    if not outs:
        return res
    leaves = [ns[x] for x in prog["leaves"]]
    try:
        terms = []
        for o, k in outs:
            t = ns[o]
            if not t.requires_grad:
                continue
            terms.append((t * lib.C(K[k])).sum())
        if not terms:
            return res
        loss = terms[0]
        for t in terms[1:]:
            loss = loss + t
        if prog["mode"] == "backward":
            loss.backward()
            for x in prog["leaves"]:
                res["grads"][x] = npv(ns[x].grad)
        elif prog["mode"] == "grad":
            ins = [ns[x] for x in prog["ginputs"]]
            gs = lib.grad(loss, ins, allow_unused=True)
            for x, g in zip(prog["ginputs"], gs):
                res["grads"][x] = npv(g)
        else:
            gs = lib.grad(loss, leaves, create_graph=True, allow_unused=True)
            s2 = None
            for x, g in zip(prog["leaves"], gs):
                res["grads"]["d1_" + x] = npv(g)
                if g is not None and g.requires_grad:
                    rr = np.random.default_rng(len(x)).standard_normal(tuple(g.shape))
                    term = (g * lib.C(rr)).tanh().sum()
                    s2 = term if s2 is None else s2 + term
            if s2 is not None:
                s2.backward()
            for x in prog["leaves"]:
                res["grads"]["d2_" + x] = npv(ns[x].grad)
    except Exception as e:
        res["err"], res["err_at"] = e, "backward"
        res["tb"] = traceback.format_exc()
    return res


def close(a, b):
    if a is None or b is None:
        return (a is None or not np.any(a)) and (b is None or not np.any(b))
    if a.shape != b.shape:
        return False
    return np.allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True)


def compare(prog):
    t = run(prog, "torch")
    o = run(prog, "tg")
    probs = []
    te, oe = t["err"], o["err"]
    if te is not None or oe is not None:
        if te is None:
            probs.append(("ours_raises", o["err_at"], f"{type(oe).__name__}: {str(oe)[:150]}"))
        elif oe is None:
            probs.append(("torch_raises", t["err_at"], f"{type(te).__name__}: {str(te)[:150]}"))
        else:
            if t["err_at"] != o["err_at"]:
                probs.append(("err_stage", (t["err_at"], o["err_at"]),
                              f"T {type(te).__name__}: {str(te)[:80]} | O {type(oe).__name__}: {str(oe)[:80]}"))
            elif type(oe) is not RuntimeError and type(te) is RuntimeError:
                probs.append(("err_type", o["err_at"], f"{type(oe).__name__}: {str(oe)[:150]}"))
        if te is not None and oe is not None and t["err_at"] == o["err_at"] != "backward":
            return probs, t, o
        if probs and (te is not None and te is not None and t["err_at"] != "backward"):
            return probs, t, o
    for k, v in t["vals"].items():
        if k in o["vals"]:
            if not close(v, o["vals"][k]):
                probs.append(("value", k, ""))
            elif t["rg"][k] != o["rg"][k]:
                probs.append(("requires_grad", k, f"T {t['rg'][k]} O {o['rg'][k]}"))
        else:
            probs.append(("missing_var", k, ""))
    if te is None and oe is None:
        for k, v in t["grads"].items():
            if not close(v, o["grads"].get(k)):
                probs.append(("grad", k, ""))
    return probs, t, o


import re
def sig(e):
    if e is None:
        return "-"
    m = str(e)
    for pat, name in [("views the memory of an array", "ours:view-of-const"),
                      (r"a view of another tensor \((\w+)", "ours:nonbasic-view"),
                      ("a view of a leaf", "leafview"), ("leaf", "leaf"),
                      (r"that (\w+) saved was written", "ours:saved-written"),
                      (r"output 0 of (\w+)", "torch:modified"),
                      ("modified since the graph", "ours:modified-since"),
                      ("single memory location", "torch:overlap"),
                      ("modified by an inplace", "modified")]:
        mm = re.search(pat, m)
        if mm:
            return name + (":" + mm.group(1) if mm.groups() else "")
    return type(e).__name__ + ":" + m[:40]


def classify(prog, probs, t, o):
    k = probs[0][0]
    if k in ("ours_raises", "torch_raises", "err_stage", "err_type"):
        return f"{k} T[{sig(t.get('err'))}] O[{sig(o.get('err'))}]"
    return k


def show(prog):
    s = []
    for l in prog["lines"]:
        s.append(l)
    s.append(f"# outs={[o for o, _ in prog['outs']]} mode={prog['mode']} ginputs={prog['ginputs']}")
    return "\n".join(s)


if __name__ == "__main__":
    start, count = int(sys.argv[1]), int(sys.argv[2])
    stats = {}
    found = []
    for seed in range(start, start + count):
        try:
            prog = Gen(seed).build()
        except Exception as e:
            print("GENFAIL", seed, e)
            continue
        try:
            probs, t, o = compare(prog)
        except Exception as e:
            probs = [("harness", None, repr(e))]
            t = o = {}
        if probs:
            key = classify(prog, probs, t, o)
            stats[key] = stats.get(key, 0) + 1
            found.append((seed, probs))
            print(f"SEED {seed}: {probs[:3]}")
            if "-v" in sys.argv:
                print(show(prog))
                if o.get("tb"):
                    print(o["tb"][-1500:])
        else:
            stats["ok"] = stats.get("ok", 0) + 1
    for k, v in sorted(stats.items(), key=lambda kv: -kv[1]):
        print(f"{v:6d}  {k}")
