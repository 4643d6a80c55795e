"""Qt-free annotation model and label file formats (YOLO, Pascal VOC)."""
