import solution


def test_quick():
    assert solution.double(2) == 4


def test_spins():
    assert solution.spin() == 1


def test_sleeps():
    assert solution.nap() == 1


def test_memory_bomb():
    assert solution.hog() == 1


def test_crash():
    assert solution.crash() == 1


def test_quick_again():
    assert solution.double(3) == 6


def test_teacher_code_loops():
    while True:
        pass
