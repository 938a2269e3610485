//! ZVT (ECR ↔ payment terminal) protocol.
