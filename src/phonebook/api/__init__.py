"""HTTP handlers, one module per resource: parse, call one service function, render."""
