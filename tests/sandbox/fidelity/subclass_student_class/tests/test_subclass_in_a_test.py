"""The same subclass, defined inside the test that uses it."""

import solution


def test_a_local_subclass_uses_the_students_speak():
    class QuietDog(solution.Dog):
        def speak(self):
            return super().speak().lower()

    assert QuietDog("Rex").speak() == "rex says woof"
