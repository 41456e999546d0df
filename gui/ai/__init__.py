"""The AI in the app: segmenting (segmenting.py, predict_controller.py), retraining in a supervised child
process (retraining.py, train_controller.py, training_process.py) and model versions (models.py).
MainWindow builds `ai_controller.AiController`, which puts the parts together. This package imports
nothing on its own, so the training process can import gui.ai.training_process without Qt widgets.
"""
