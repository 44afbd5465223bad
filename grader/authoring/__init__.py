"""Writing and publishing assignments: ``handout`` (handout to student notebook),
``publishing`` (student files, autograder zip, and the gates they must pass), ``examples``
(examples graded over many draws), ``shipping`` (what a suite ships) and ``scaffold``
(``dlgrade new``)."""
