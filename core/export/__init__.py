"""What leaves a case for the user's own folders: the export formats as data (exporters.py), the case's own
export folder (case_folder.py) and the Labelme dataset of its saved slices (labelme_dataset.py). Both doors, the
app's export dialog and `main.py export`, go through here."""
