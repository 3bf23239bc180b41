from tests.gui.display import x_display

__all__ = ["x_display"]
