"""GeoTDM: geometric trajectory diffusion models (Han et al., NeurIPS 2024).

``geotdm.nbody`` simulates the built-in N-body data and reads/writes its splits; ``geotdm.network`` holds the
equivariant temporal network (imported on demand: it pulls in torch-geometric).
"""
