from datetime import timedelta

from hypothesis import settings

# Random calendars can be open a few minutes a week, and a long duration then spans centuries of
# intervals to build; that is correct, only slow on a busy CI machine, so deadlines are generous.
settings.register_profile("slarules", deadline=timedelta(seconds=5))
settings.load_profile("slarules")
