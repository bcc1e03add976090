class Shape:
    def area(self):
        return 0


class Square:
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side * 2
