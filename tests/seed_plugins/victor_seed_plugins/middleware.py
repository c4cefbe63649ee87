# middleware_coordinator.py (recipe 5): the middleware functions
from typing import Callable, Any
from functools import wraps
import time
import logging
from victor_server.protocols import AuthenticationError  # the recipe raises it unimported

logger = logging.getLogger(__name__)

# Middleware functions
async def logging_middleware(orchestrator, func, *args, **kwargs):
    """Log all orchestrator calls."""
    logger.info(f"Calling {func.__name__} with args={args}, kwargs={kwargs}")
    start = time.time()

    try:
        result = await func(*args, **kwargs)
        duration = time.time() - start
        logger.info(f"{func.__name__} completed in {duration:.2f}s")
        return result
    except Exception as e:
        duration = time.time() - start
        logger.error(f"{func.__name__} failed after {duration:.2f}s: {e}")
        raise

async def rate_limit_middleware(orchestrator, func, *args, **kwargs):
    """Apply rate limiting to orchestrator calls."""
    # Implement rate limiting logic here
    # For example, using Redis or in-memory rate limiter
    return None  # Return None to continue to next middleware

async def authentication_middleware(orchestrator, func, *args, **kwargs):
    """Validate authentication tokens."""
    # Extract session_id from kwargs
    session_id = kwargs.get('session_id')

    if not session_id:
        raise AuthenticationError("No session_id provided")

    # Validate session
    is_valid = await orchestrator._session_coordinator.validate_session(session_id)

    if not is_valid:
        raise AuthenticationError(f"Invalid session: {session_id}")

    return None  # Continue to next middleware
