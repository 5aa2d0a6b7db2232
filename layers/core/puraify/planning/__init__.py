"""Planning Engine: facts, Rego policy bundles from S3, and audited deployment decisions.

Built by ``puraify.wiring`` (``runtime.planning``) over the ports of ``puraify.planning.ports``.
"""
