"""The session host: the long-running container that holds the WhatsApp sessions and sends the outbox."""
