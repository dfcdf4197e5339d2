"""Pure rules of the contract: lax parsing, normalisation, type resolution."""
