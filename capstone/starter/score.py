"""Score new loan applications.

    python score.py applications.csv scores.csv

Uses model_final_v2.pkl from the current folder (the file Sam copied to the scoring server).
"""
import pickle
import sys

import pandas as pd


def add_features(df):
    # copied from the training notebook -- keep the two in sync!
    r = 0.06 / 12
    df["instalment"] = df["loan_amount"] * r / (1 - (1 + r) ** -df["term_months"])
    df["dti"] = df["instalment"] * 12 / df["income"].clip(lower=1)
    return df


if __name__ == "__main__":
    with open("model_final_v2.pkl", "rb") as f:
        model = pickle.load(f)
    df = pd.read_csv(sys.argv[1])
    df = add_features(df)
    df["score"] = model.predict_proba(df)[:, 1]
    df[["application_id", "score"]].to_csv(sys.argv[2], index=False)
    print(f"scored {len(df)} applications")
