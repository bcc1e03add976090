CASES = [(2, True), (3, True), (4, False), (9, False), (11, True), (1, False)]
