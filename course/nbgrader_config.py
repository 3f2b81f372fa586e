"""nbgrader's configuration for the simlab course (run nbgrader from this folder).

source/<lesson>/<lesson>.ipynb is generated from the lessons by `python scripts/editions.py course`
(`make course`): edit the lesson in notebooks/, never the files under source/. `make course-release`
writes release/ with nbgrader generate_assignment; students' work goes in submitted/<student>/<lesson>/
and `nbgrader autograde <lesson>` grades it into gradebook.db. release/, submitted/, autograded/,
feedback/ and gradebook.db are build outputs (.gitignore).
"""

c = get_config()  # noqa: F821 - nbgrader's config loader defines get_config

c.CourseDirectory.course_id = "simlab"
# Each exercise runs one simulated day: a minute per cell is plenty.
c.ExecutePreprocessor.timeout = 120
c.ExecutePreprocessor.kernel_name = "python3"
