# Fixtures shared by every app's tests: real daphne servers, the browser, WebSocket helpers.
pytest_plugins = ["realtime.testing.fixtures"]
