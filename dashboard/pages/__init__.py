"""One module per page: ``layout(ctx, language, ...)`` and ``register(app, ctx)`` for its callbacks."""
