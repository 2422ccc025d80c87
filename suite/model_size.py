"""Models of the same size: the units that give a model as many weights as another has."""


def matching_units(count_params, target, start=1):
    """The units whose model's weight count comes nearest `target`.

    count_params(units) counts the weights of the model built with that many units (more units,
    more weights); units go up from `start` until the count passes `target`, and of the two
    either side of it the nearer wins (the smaller on a tie).
    """
    units, count = start, count_params(start)
    if count >= target:
        return start
    while True:
        next_count = count_params(units + 1)
        if next_count >= target:
            return units + 1 if next_count - target < target - count else units
        units, count = units + 1, next_count
