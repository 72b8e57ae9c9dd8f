//! The edge worker (issue 3): `POST /api/event` → validate → drop bots → anonymize →
//! enrich → queue → ClickHouse. Empty until that issue lands; it exists now so the
//! workspace has its final shape.
