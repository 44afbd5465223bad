"""Writing and publishing assignments: ``handout`` (handout to student notebook),
``publishing`` (student files, autograder zip, and the gates they must pass) and ``scaffold``
(``dlgrade new``)."""
