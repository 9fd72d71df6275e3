"""The live core: the path of one vote, from the phone's message to the fragments pushed back."""
