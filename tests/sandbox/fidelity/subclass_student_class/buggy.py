class Dog:
    def __init__(self, name):
        self.name = name.lower()

    def speak(self):
        return "woof"
