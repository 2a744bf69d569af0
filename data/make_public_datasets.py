"""Writes data/binary/breast_cancer.csv and data/regression/diabetes.csv from the copies that
scikit-learn 1.5.1 ships (sklearn/datasets/data/), so their provenance can be re-checked:

    .venv/bin/python data/make_public_datasets.py
"""

import csv
import gzip
import os

import sklearn
from sklearn.datasets import load_breast_cancer

SOURCE = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data")
HERE = os.path.dirname(os.path.abspath(__file__))
DIABETES_COLUMNS = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def snake(name: str) -> str:
    return name.replace(" ", "_")


def breast_cancer() -> None:
    """569 rows, 30 numeric columns; label `malignant` 1/0 (sklearn's target is 0 = malignant)."""
    names = [snake(n) for n in load_breast_cancer().feature_names]
    with open(os.path.join(SOURCE, "breast_cancer.csv")) as source:
        rows = list(csv.reader(source))[1:]
    with open(os.path.join(HERE, "binary", "breast_cancer.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*names, "malignant"])
        for row in rows:
            writer.writerow([*row[:-1], 1 - int(row[-1])])


def diabetes() -> None:
    """442 rows, 10 baseline variables (unscaled); label `progression` one year later."""
    with gzip.open(os.path.join(SOURCE, "diabetes_data_raw.csv.gz"), "rt") as source:
        features = [line.split() for line in source if line.strip()]
    with gzip.open(os.path.join(SOURCE, "diabetes_target.csv.gz"), "rt") as source:
        targets = [float(line) for line in source if line.strip()]
    with open(os.path.join(HERE, "regression", "diabetes.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*DIABETES_COLUMNS, "progression"])
        for row, target in zip(features, targets, strict=False):
            writer.writerow([*row, f"{target:g}"])


if __name__ == "__main__":
    breast_cancer()
    diabetes()
