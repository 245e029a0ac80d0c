"""WhatsApp drivers: neonize (primary), the whatsapp-web.js sidecar (fallback), and the simulated network."""
