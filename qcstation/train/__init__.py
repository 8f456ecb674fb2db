"""Training of the appearance-defect model (torch; the `train` extra): data, net, loop, export."""
