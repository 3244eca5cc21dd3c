"""The Conversational AI API (the seed): REST endpoints and the WebSocket stream door."""
