"""The built-in DNA task of DRAKES: JASPAR motifs (pyjaspar wheel), motif-planted Markov DNA and its oracle."""
