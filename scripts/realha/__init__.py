"""A real Home Assistant (its own install, a real `hass` process) for
`scripts/develop`, the voice command tool, the browser test and the smoke test.

- `env`: one virtual environment per Home Assistant release, with the
  frontend it pins and the requirements of the components we set up.
- `instance`: a config directory, the `hass` process, onboarding over the
  HTTP API, and a small REST/websocket client.
- `fake`: the project's local Deepgram server as a separate process.
- `voice`: one voice command (a WAV at real time) through the Assist pipeline.
"""
