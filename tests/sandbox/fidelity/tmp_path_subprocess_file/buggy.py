import sys


def main(source, target):
    with open(source) as fh:
        count = fh.read().count("\n\n") + 1
    with open(target, "w") as fh:
        fh.write(f"{count}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
