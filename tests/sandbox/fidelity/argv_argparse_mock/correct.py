import argparse


def parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("word")
    parser.add_argument("--times", type=int, default=1)
    args = parser.parse_args()
    return args.word, args.times
