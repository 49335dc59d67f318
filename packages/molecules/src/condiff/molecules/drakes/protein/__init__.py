"""DRAKES' protein task on the 20-letter alphabet: built-in helix-forming sequences with a stability proxy, and
the interfaces for a structure-conditioned denoiser and a user-supplied ddG oracle."""
