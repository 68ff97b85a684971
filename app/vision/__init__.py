"""Vision pipeline: detection, preprocessing, recognition, tracking. No Flask, no DB."""
