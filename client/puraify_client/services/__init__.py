"""The service modules, one per control plane service; importing this registers them all."""

from puraify_client.services import actions, config, engines, env, monitoring, plan, platforms
from puraify_client.services.base import REGISTRY, Service, register

__all__ = ["REGISTRY", "Service", "actions", "config", "engines", "env", "monitoring", "plan", "platforms", "register"]
