"""``tinygrad_norm.func``: the part of ``torch.func`` a tape can honestly give.

``functional_call`` swaps a module's tensors for one call; ``grad``, ``grad_and_value``, ``vjp``,
``jacrev`` run on the tape (reverse mode) and nest; ``jvp`` and ``jacfwd`` are forward mode
(``autograd.forward_ad``: tangents pushed through every primitive), taking the double-vjp route
where their result must itself be differentiable; ``hessian`` is ``jacfwd(jacrev)``, as torch's;
``vmap`` is a loop over the
mapped dimension (N calls, no batching rules), with torch's in_dims/out_dims/randomness;
``stack_module_state`` stacks an ensemble's tensors for ``vmap(functional_call)``;
``linearize`` pairs a value with its jvp function; ``functionalize`` is the identity on an eager
tape; ``replace_all_batch_norm_modules_`` stops batch norms' running statistics."""
from ._batch_norm import replace_all_batch_norm_modules_
from ._functional_call import functional_call
from ._functionalize import functionalize
from ._grad import grad, grad_and_value, vjp
from ._jac import hessian, jacfwd, jacrev, jvp
from ._linearize import linearize
from ._stack import stack_module_state
from ._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd",
           "hessian", "vmap", "stack_module_state", "linearize", "functionalize",
           "replace_all_batch_norm_modules_"]
