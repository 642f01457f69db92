raise SystemExit("the submission's threading.py was imported")
