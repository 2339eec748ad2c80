"""``tinygrad_norm.func``: the part of ``torch.func`` a tape can honestly give.

``functional_call`` swaps a module's tensors for one call; ``grad``, ``grad_and_value``, ``vjp``,
``jacrev``, ``hessian`` run on the tape (reverse mode) and nest; ``jvp`` and ``jacfwd`` are
reverse mode too (the double-vjp trick; there is no forward mode); ``vmap`` is a loop over the
mapped dimension (N calls, no batching rules), with torch's in_dims/out_dims/randomness."""
from ._functional_call import functional_call
from ._grad import grad, grad_and_value, vjp
from ._jac import hessian, jacfwd, jacrev, jvp
from ._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd",
           "hessian", "vmap"]
