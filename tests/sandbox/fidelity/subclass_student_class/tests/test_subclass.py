"""The test subclasses the student's class and relies on its methods through super()."""

import solution


class LoudDog(solution.Dog):
    def speak(self):
        return super().speak().upper() + "!"


def test_subclass_uses_the_students_speak():
    assert LoudDog("Rex").speak() == "REX SAYS WOOF!"


def test_subclass_keeps_the_name():
    assert LoudDog("Fido").name == "Fido"
