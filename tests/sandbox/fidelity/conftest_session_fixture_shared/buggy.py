class Library:
    def __init__(self, titles):
        self.titles = sorted(titles)
        self.out = set()

    def borrow(self, title):
        if title not in self.titles:
            return False
        self.out.add(title)
        return True

    def give_back(self, title):
        self.out.discard(title)

    def available(self):
        return [t for t in self.titles if t not in self.out]
