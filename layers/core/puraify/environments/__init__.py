"""Environment Manager: environments per project, immutable versions, promotion, rollback, previews.

Built by ``puraify.wiring`` (``runtime.environments``) over the ports of ``puraify.environments.ports``.
"""
