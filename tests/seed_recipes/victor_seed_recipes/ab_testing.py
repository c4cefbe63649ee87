# ab_testing_coordinator.py (recipe 9): the subclass is installed as a config provider;
# victor_server.protocols.ConfigCoordinator turns its load_config into the session's config and
# its session_assignments into the session's variant
import random
from typing import Dict
from victor_server.protocols import ConfigCoordinator

class ABTestingConfigCoordinator(ConfigCoordinator):
    """A/B test different configurations."""

    def __init__(self, variants: Dict[str, dict], weights: Dict[str, float] = None):
        """
        Args:
            variants: Dict of variant_name -> config
            weights: Dict of variant_name -> weight (for weighted sampling)
        """
        self.variants = variants
        self.weights = weights or {v: 1.0 for v in variants}
        self.session_assignments = {}

    async def load_config(self, session_id: str, config_override: dict = None) -> dict:
        """Load config for session (assigning to A/B variant)."""
        # Assign session to variant
        if session_id not in self.session_assignments:
            variant = self._assign_variant(session_id)
        else:
            variant = self.session_assignments[session_id]

        # Load variant config
        variant_config = self.variants[variant].copy()

        # Apply overrides
        if config_override:
            variant_config.update(config_override)

        # Track assignment in analytics
        await self._track_assignment(session_id, variant)

        return variant_config

    def _assign_variant(self, session_id: str) -> str:
        """Assign session to variant."""
        # Weighted random selection
        variants = list(self.variants.keys())
        weights = [self.weights.get(v, 1.0) for v in variants]

        variant = random.choices(variants, weights=weights, k=1)[0]
        self.session_assignments[session_id] = variant

        return variant

    async def _track_assignment(self, session_id: str, variant: str):
        """Track A/B assignment in analytics."""
        # Emit analytics event
        pass
