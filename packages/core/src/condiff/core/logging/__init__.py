"""Media logging (image grids) to files and to the experiment logger."""

from condiff.core.logging.media import image_grid, log_image_grid, save_png

__all__ = ["image_grid", "log_image_grid", "save_png"]
